require ["envelope", "fileinto"];
if envelope :all :is "from" "" { fileinto "bounce"; }
