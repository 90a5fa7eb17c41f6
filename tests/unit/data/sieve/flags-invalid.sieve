require ["imap4flags", "fileinto"];
fileinto :flags ["\\Recent", "\\seen", "$Ok", "bad(flag", "\\Custom"] "F";
