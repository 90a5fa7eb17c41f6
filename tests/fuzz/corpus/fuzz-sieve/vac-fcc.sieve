require ["vacation", "fcc", "imap4flags", "mailbox", "special-use"];
vacation :fcc "Sent" :create :specialuse "\\Sent" :flags "\\Seen" :subject "Out" "away";
