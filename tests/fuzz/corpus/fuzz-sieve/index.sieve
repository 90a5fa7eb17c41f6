require ["index", "fileinto", "date"];
if header :index 2 "x-tag" "second" { fileinto "second"; }
if header :index 1 :last "x-tag" "second" { fileinto "last-is-second"; }
if header :index 3 "x-tag" "second" { fileinto "never"; }
if address :index 1 "to" "ann@example.com" { fileinto "addr-index"; }
