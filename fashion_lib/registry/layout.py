"""Where a registry keeps things: quilt3's layout (manifests, version pointers) and the registry's own
object store, the same on a local folder and in a bucket."""

OBJECTS = "objects"  # objects/<hex of the file's hash>, each stored once
PACKAGES = ".quilt/packages"  # .quilt/packages/<top hash>: the manifests
POINTERS = ".quilt/named_packages"  # .quilt/named_packages/<owner>/<name>/<time> and latest: the versions
TMP = ".fashion-tmp"  # a local registry's files being written, moved in when whole (a copy may carry them to S3)
