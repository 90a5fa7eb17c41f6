require ["editheader"];
deleteheader "cc";
deleteheader :index 1 :last "received";
deleteheader :matches "x-tag" "fir*";
deleteheader "auto-submitted";

#MSG
Received: from a by b; Tue, 14 Nov 2023 22:10:00 +0000
From: a@example.org
To: ann@example.com
Cc: c@example.com
X-Tag: first
X-Tag: second

x
