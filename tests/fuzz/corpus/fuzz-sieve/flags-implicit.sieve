require "imap4flags";
addflag "\\Flagged \\Seen";
addflag "\\seen";
