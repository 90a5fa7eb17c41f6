require ["imap4flags", "fileinto"];
addflag "\\Flagged";
fileinto :flags ["\\Seen", "$Label1"] "Tagged";
keep;
