require ["include", "variables", "fileinto"];
global "target";
set "target" "Included";
include :personal "sub";
include :global "spam";
include :once "sub";
include :optional "missing";
