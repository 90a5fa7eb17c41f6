require ["spamtestplus", "virustest", "fileinto", "relational", "comparator-i;ascii-numeric"];
if spamtest :percent :count "eq" :comparator "i;ascii-numeric" "0" { fileinto "INBOX.unclassified"; }
if virustest :count "eq" :comparator "i;ascii-numeric" "1" { fileinto "virus-tested"; }
if virustest :value "eq" :comparator "i;ascii-numeric" "1" { fileinto "clean"; }
