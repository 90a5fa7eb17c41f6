require ["variables", "fileinto"];
if header :matches "List-ID" "*<*.*>*" {
  fileinto "lists.${2}";
}
if address :matches "to" "*+*@*" { set "detail" "${2}"; }
fileinto "detail-${detail}-${0}";
