require ["variables", "fileinto"];
fileinto "a${unknown}b${1}c${bad name}d${}e";
