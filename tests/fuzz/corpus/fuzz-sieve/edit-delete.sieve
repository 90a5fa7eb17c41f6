require ["editheader"];
deleteheader "cc";
deleteheader :index 1 :last "received";
deleteheader :matches "x-tag" "fir*";
deleteheader "auto-submitted";
