require ["include", "fileinto"];
fileinto "deep";
