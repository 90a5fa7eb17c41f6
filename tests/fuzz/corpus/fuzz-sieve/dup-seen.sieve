require ["duplicate", "fileinto"];
if duplicate { discard; stop; }
fileinto "first";
