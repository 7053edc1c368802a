// Command terraform-provider-tencentcloud is tclocal's stand-in for the Tencent Cloud
// Terraform provider: a small provider written for tclocal's compatibility test on top of the
// official Go SDK (tencentcloud-sdk-go), with the upstream provider's names for the resources,
// data sources and attributes it covers, so compat/terraform/main.tf runs unchanged against
// either. It exists because the upstream provider's module is not served by the Go module
// proxy this project builds from (see compat/terraform/README.md).
package main

import (
	"github.com/hashicorp/terraform-plugin-sdk/v2/helper/schema"
	"github.com/hashicorp/terraform-plugin-sdk/v2/plugin"
)

func main() {
	plugin.Serve(&plugin.ServeOpts{ProviderFunc: func() *schema.Provider { return Provider() }})
}
