require ["variables", "fileinto"];
set "a" "juMBlEd lETteRS";
set :length "b" "${a}";
set :lower "c" "${a}";
set :upperfirst "d" "${a}";
set :upperfirst :lower "e" "${a}";
set :quotewildcard "f" "Rock*";
fileinto "${b}|${c}|${d}|${e}|${f}";
