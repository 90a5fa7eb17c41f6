require ["vacation", "fcc", "imap4flags"];
vacation :fcc "Sent" :create :flags "\\Seen" :subject "Out" "away";
