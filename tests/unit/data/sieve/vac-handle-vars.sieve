require ["vacation", "variables"];
# the default handle comes from the unexpanded arguments: the same for
# every subject (compare vac-variables.out)
if header :matches "subject" "*" { set "s" "${1}"; }
vacation :subject "Re: ${s}" "I got your mail about ${s}.";
