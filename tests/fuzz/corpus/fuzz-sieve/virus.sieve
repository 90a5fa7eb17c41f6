require ["virustest", "fileinto", "relational", "comparator-i;ascii-numeric"];
if virustest :value "ge" :comparator "i;ascii-numeric" "4" { discard; }
elsif virustest :is "1" { fileinto "clean"; }
