require ["variables", "fileinto", "mailbox", "subaddress", "envelope"];
if envelope :matches :detail "to" "*" { set "folder" "${1}"; }
fileinto :create "Tags/${folder}";
