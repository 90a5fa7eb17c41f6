require ["variables", "fileinto"];
set :upperfirst "a" "hello";
set :lower :upperfirst "b" "WORLD";
set :length "c" "héllo";
set :quotewildcard "d" "a*b?c\\d";
set :upper "e" "mixed Case";
fileinto "${a}-${b}-${c}-${d}-${e}";
