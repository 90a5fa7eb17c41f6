require "fileinto";
if address :is "to" "dave@example.com" { fileinto "in-group"; }
if address :all :matches "cc" "*" { fileinto "cc-any"; }

#MSG
From: a@example.org
To: friends: dave@example.com, "Eve (E)" <eve@example.com>;, zed@example.com
Cc: undisclosed-recipients:;

x
