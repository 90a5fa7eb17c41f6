require "reject";
reject text: # comment after text:
line one
..starts with a dot
.
;
