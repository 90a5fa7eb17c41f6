require ["mboxmetadata", "servermetadata", "fileinto"];
if metadata :is "INBOX" "/private/comment" "vip" { fileinto "vip"; }
if metadataexists "INBOX" ["/private/comment", "/private/none"] { fileinto "never"; }
if servermetadataexists "/shared/admin" { fileinto "has-admin"; }
if servermetadata :contains "/shared/admin" "postmaster" { fileinto "admin"; }
