// Command etcd is the etcd server (go.etcd.io/etcd/server/v3, the version k8s.io/kubernetes
// itself depends on), the storage behind kseal's real-control-plane tests.
package main

import (
	"os"

	"go.etcd.io/etcd/server/v3/etcdmain"
)

func main() {
	etcdmain.Main(os.Args)
}
