require ["include", "variables", "fileinto"];
set "global.box" "FromMain";
include "useglobal";
fileinto "${global.result}";
