require ["include", "variables"];
set "global.result" "${global.box}-seen";
set "local" "invisible";
