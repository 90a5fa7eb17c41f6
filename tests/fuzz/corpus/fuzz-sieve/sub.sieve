require ["include", "variables", "fileinto"];
global "target";
fileinto "${target}";
return;
fileinto "after-return";
