require "fileinto";
if exists ["From", "Date", "message-id"] { fileinto "complete"; }
if not exists "X-Nope" { fileinto "no-x"; }
