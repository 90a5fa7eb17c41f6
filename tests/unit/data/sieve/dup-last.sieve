require ["duplicate", "fileinto"];
if duplicate :last :seconds 60 { fileinto "seen-refreshed"; }
