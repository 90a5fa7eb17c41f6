require "fileinto";
if address :localpart "from" "john smith" { fileinto "quoted-local"; }
if address :domain "reply-to" "example.net" { fileinto "comment-stripped"; }
if address :all "sender" "x@example.com" { fileinto "route-addr"; }
