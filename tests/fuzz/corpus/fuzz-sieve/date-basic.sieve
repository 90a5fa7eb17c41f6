require ["date", "fileinto", "relational"];
if date :is "date" "year" "2023" { fileinto "y2023"; }
if date :originalzone "date" "hour" "23" { fileinto "orig-hour"; }
if date :zone "+0000" "date" "hour" "22" { fileinto "utc-hour"; }
if date :zone "-0500" "date" "date" "2023-11-14" { fileinto "est-date"; }
if date :originalzone "date" "iso8601" "2023-11-14T23:05:10+01:00" { fileinto "iso"; }
if date :originalzone "date" "std11" "Tue, 14 Nov 2023 23:05:10 +0100" { fileinto "std11"; }
if date :zone "+0000" "date" "weekday" "2" { fileinto "tuesday"; }
if date :zone "+0000" "date" "julian" "60262" { fileinto "julian"; }
if date :is "received" "zone" "+0000" { fileinto "received-zone"; }
