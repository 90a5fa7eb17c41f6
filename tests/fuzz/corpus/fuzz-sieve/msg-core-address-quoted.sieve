require "fileinto";
if address :localpart "from" "john smith" { fileinto "quoted-local"; }
if address :domain "reply-to" "example.net" { fileinto "comment-stripped"; }
if address :all "sender" "x@example.com" { fileinto "route-addr"; }

#MSG
From: "John Q." <"john smith"@example.org>
Reply-To: (dept) jq (at work) @ (the) example.net
Sender: <@relay.example:x@example.com>
To: ann@example.com

x
