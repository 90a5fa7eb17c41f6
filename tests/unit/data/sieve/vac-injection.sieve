require ["vacation", "variables"];
set "s" text:
Hi
Bcc: victim@example.net
.
;
vacation :subject "${s}" "away";
