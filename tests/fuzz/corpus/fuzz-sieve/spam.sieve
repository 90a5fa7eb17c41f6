require ["fileinto", "imap4flags"];
addflag "$Checked";
if header :contains "subject" "project" { fileinto "Global"; }
