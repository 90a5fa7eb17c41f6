require "fileinto";
fileinto "INBOX";
keep;
fileinto "Archive";
fileinto "Archive";
