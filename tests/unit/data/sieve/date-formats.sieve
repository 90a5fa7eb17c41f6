require ["date", "variables", "fileinto"];
if date :zone "+0000" :matches "date" "iso8601" "*" { set "a" "${0}"; }
if date :zone "-0130" :matches "date" "std11" "*" { set "b" "${0}"; }
if date :zone "+0000" :matches "date" "julian" "*" { set "c" "${0}"; }
fileinto "${a}|${b}|${c}";
