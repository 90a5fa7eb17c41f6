require ["editheader", "index"];
deleteheader :index 2 "x-tag";
addheader "X-Tag" "zeroth";
