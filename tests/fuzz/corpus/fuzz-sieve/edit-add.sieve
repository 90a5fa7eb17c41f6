require ["editheader", "fileinto"];
addheader "X-Sieve" "filtered";
addheader :last "X-Note" "Grüße aus Köln";
if header :is "x-sieve" "filtered" { fileinto "sees-own-edit"; }
addheader "X-Long" "Ein sehr langer Betreff mit Umlauten äöü, der über die Zeilenlänge von achtundsiebzig Zeichen hinausgeht, ganz sicher";
