package main

import (
	"context"
	"fmt"
	"strings"

	"github.com/hashicorp/terraform-plugin-sdk/v2/diag"
	"github.com/hashicorp/terraform-plugin-sdk/v2/helper/schema"
	"github.com/hashicorp/terraform-plugin-sdk/v2/helper/validation"
	"github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/common"
	"github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/common/profile"
	cvm "github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/cvm/v20170312"
	tag "github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/tag/v20180813"
)

// Provider is the provider's schema: the upstream provider's settings that matter here.
func Provider() *schema.Provider {
	return &schema.Provider{
		Schema: map[string]*schema.Schema{
			"secret_id": {
				Type:        schema.TypeString,
				Optional:    true,
				DefaultFunc: schema.EnvDefaultFunc("TENCENTCLOUD_SECRET_ID", nil),
			},
			"secret_key": {
				Type:        schema.TypeString,
				Optional:    true,
				Sensitive:   true,
				DefaultFunc: schema.EnvDefaultFunc("TENCENTCLOUD_SECRET_KEY", nil),
			},
			"region": {
				Type:        schema.TypeString,
				Optional:    true,
				DefaultFunc: schema.EnvDefaultFunc("TENCENTCLOUD_REGION", "ap-guangzhou"),
			},
			// Every API host is "<service>.<domain>", as upstream builds it.
			"domain": {
				Type:        schema.TypeString,
				Optional:    true,
				DefaultFunc: schema.EnvDefaultFunc("TENCENTCLOUD_DOMAIN", "tencentcloudapi.com"),
			},
			"protocol": {
				Type:         schema.TypeString,
				Optional:     true,
				DefaultFunc:  schema.EnvDefaultFunc("TENCENTCLOUD_PROTOCOL", "HTTPS"),
				ValidateFunc: validation.StringInSlice([]string{"HTTP", "HTTPS"}, false),
			},
		},
		DataSourcesMap: map[string]*schema.Resource{
			"tencentcloud_availability_zones_by_product": dataZonesByProduct(),
			"tencentcloud_images":                        dataImages(),
			"tencentcloud_instance_types":                dataInstanceTypes(),
		},
		ResourcesMap: map[string]*schema.Resource{
			"tencentcloud_instance": resourceInstance(),
		},
		ConfigureContextFunc: configure,
	}
}

// clients are the SDK clients the provider calls, one per product.
type clients struct {
	region string
	cvm    *cvm.Client
	tag    *tag.Client
}

func configure(_ context.Context, d *schema.ResourceData) (interface{}, diag.Diagnostics) {
	id, _ := d.Get("secret_id").(string)
	key, _ := d.Get("secret_key").(string)
	if id == "" || key == "" {
		return nil, diag.Errorf("secret_id and secret_key are required (or TENCENTCLOUD_SECRET_ID/KEY)")
	}
	region := d.Get("region").(string)
	domain := d.Get("domain").(string)
	scheme := strings.ToLower(d.Get("protocol").(string))
	cred := common.NewCredential(id, key)
	prof := func(service string) *profile.ClientProfile {
		p := profile.NewClientProfile()
		p.HttpProfile.Endpoint = service + "." + domain
		p.HttpProfile.Scheme = strings.ToUpper(scheme)
		p.HttpProfile.ReqTimeout = 30
		return p
	}
	c := &clients{region: region}
	var err error
	if c.cvm, err = cvm.NewClient(cred, region, prof("cvm")); err != nil {
		return nil, diag.FromErr(fmt.Errorf("cvm client: %w", err))
	}
	if c.tag, err = tag.NewClient(cred, region, prof("tag")); err != nil {
		return nil, diag.FromErr(fmt.Errorf("tag client: %w", err))
	}
	return c, nil
}
