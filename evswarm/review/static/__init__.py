"""Static files of the review app (HTML, JS, CSS), served locally: no CDN, works offline."""
