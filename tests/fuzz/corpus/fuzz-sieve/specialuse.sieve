require ["special-use", "fileinto", "mailbox"];
if specialuse_exists "\\Junk" { fileinto :specialuse "\\Junk" :create "Spam"; }
if specialuse_exists "Trash" "\\Trash" { fileinto "never"; }
