package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"regexp"
	"strings"

	"github.com/hashicorp/terraform-plugin-sdk/v2/diag"
	"github.com/hashicorp/terraform-plugin-sdk/v2/helper/schema"
	"github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/common"
	cvm "github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/cvm/v20170312"
)

// idsHash is a data source's id: stable for the same result, so a second plan shows no change.
func idsHash(ids []string) string {
	sum := sha256.Sum256([]byte(strings.Join(ids, ",")))
	return hex.EncodeToString(sum[:8])
}

func computedList(elem map[string]*schema.Schema) *schema.Schema {
	return &schema.Schema{Type: schema.TypeList, Computed: true, Elem: &schema.Resource{Schema: elem}}
}

func computed(t schema.ValueType) *schema.Schema { return &schema.Schema{Type: t, Computed: true} }

func str(p *string) string {
	if p == nil {
		return ""
	}
	return *p
}

func i64(p *int64) int {
	if p == nil {
		return 0
	}
	return int(*p)
}

// --- tencentcloud_availability_zones_by_product ---------------------------------------

func dataZonesByProduct() *schema.Resource {
	return &schema.Resource{
		ReadContext: readZonesByProduct,
		Schema: map[string]*schema.Schema{
			"product":             {Type: schema.TypeString, Required: true},
			"name":                {Type: schema.TypeString, Optional: true},
			"include_unavailable": {Type: schema.TypeBool, Optional: true, Default: false},
			"zones": computedList(map[string]*schema.Schema{
				"id":          computed(schema.TypeString),
				"name":        computed(schema.TypeString),
				"description": computed(schema.TypeString),
				"state":       computed(schema.TypeString),
			}),
		},
	}
}

func readZonesByProduct(_ context.Context, d *schema.ResourceData, meta interface{}) diag.Diagnostics {
	c := meta.(*clients)
	if p := d.Get("product").(string); p != "cvm" {
		return diag.Errorf("this provider lists the zones of product cvm only, not %q", p)
	}
	resp, err := c.cvm.DescribeZones(cvm.NewDescribeZonesRequest())
	if err != nil {
		return diag.FromErr(err)
	}
	name := d.Get("name").(string)
	all := d.Get("include_unavailable").(bool)
	zones := make([]map[string]interface{}, 0)
	ids := make([]string, 0)
	for _, z := range resp.Response.ZoneSet {
		if name != "" && str(z.Zone) != name {
			continue
		}
		if !all && str(z.ZoneState) != "AVAILABLE" {
			continue
		}
		zones = append(zones, map[string]interface{}{
			"id": str(z.ZoneId), "name": str(z.Zone), "description": str(z.ZoneName), "state": str(z.ZoneState),
		})
		ids = append(ids, str(z.Zone))
	}
	d.SetId(idsHash(ids))
	return diag.FromErr(d.Set("zones", zones))
}

// --- tencentcloud_images ---------------------------------------------------------------

func dataImages() *schema.Resource {
	return &schema.Resource{
		ReadContext: readImages,
		Schema: map[string]*schema.Schema{
			"image_id":         {Type: schema.TypeString, Optional: true},
			"image_type":       {Type: schema.TypeList, Optional: true, Elem: &schema.Schema{Type: schema.TypeString}},
			"image_name_regex": {Type: schema.TypeString, Optional: true},
			"os_name":          {Type: schema.TypeString, Optional: true},
			"instance_type":    {Type: schema.TypeString, Optional: true},
			"images": computedList(map[string]*schema.Schema{
				"image_id":          computed(schema.TypeString),
				"os_name":           computed(schema.TypeString),
				"image_type":        computed(schema.TypeString),
				"created_time":      computed(schema.TypeString),
				"image_name":        computed(schema.TypeString),
				"image_description": computed(schema.TypeString),
				"image_size":        computed(schema.TypeInt),
				"architecture":      computed(schema.TypeString),
				"image_state":       computed(schema.TypeString),
				"platform":          computed(schema.TypeString),
			}),
		},
	}
}

func readImages(_ context.Context, d *schema.ResourceData, meta interface{}) diag.Diagnostics {
	c := meta.(*clients)
	var re *regexp.Regexp
	if s := d.Get("image_name_regex").(string); s != "" {
		var err error
		if re, err = regexp.Compile(s); err != nil {
			return diag.Errorf("image_name_regex: %v", err)
		}
	}
	osName := d.Get("os_name").(string)
	images := make([]map[string]interface{}, 0)
	ids := make([]string, 0)
	const limit = 100
	for offset := uint64(0); ; offset += limit {
		req := cvm.NewDescribeImagesRequest()
		req.Offset = common.Uint64Ptr(offset)
		req.Limit = common.Uint64Ptr(limit)
		if id := d.Get("image_id").(string); id != "" {
			req.ImageIds = []*string{common.StringPtr(id)}
		} else if types := d.Get("image_type").([]interface{}); len(types) > 0 {
			f := &cvm.Filter{Name: common.StringPtr("image-type")}
			for _, t := range types {
				f.Values = append(f.Values, common.StringPtr(t.(string)))
			}
			req.Filters = append(req.Filters, f)
		}
		if t := d.Get("instance_type").(string); t != "" {
			req.InstanceType = common.StringPtr(t)
		}
		resp, err := c.cvm.DescribeImages(req)
		if err != nil {
			return diag.FromErr(err)
		}
		for _, im := range resp.Response.ImageSet {
			if re != nil && !re.MatchString(str(im.ImageName)) {
				continue
			}
			if osName != "" && !strings.Contains(strings.ToLower(str(im.OsName)), strings.ToLower(osName)) {
				continue
			}
			images = append(images, map[string]interface{}{
				"image_id": str(im.ImageId), "os_name": str(im.OsName), "image_type": str(im.ImageType),
				"created_time": str(im.CreatedTime), "image_name": str(im.ImageName),
				"image_description": str(im.ImageDescription), "image_size": i64(im.ImageSize),
				"architecture": str(im.Architecture), "image_state": str(im.ImageState), "platform": str(im.Platform),
			})
			ids = append(ids, str(im.ImageId))
		}
		if len(resp.Response.ImageSet) < limit {
			break
		}
	}
	d.SetId(idsHash(ids))
	return diag.FromErr(d.Set("images", images))
}

// --- tencentcloud_instance_types -------------------------------------------------------

func dataInstanceTypes() *schema.Resource {
	return &schema.Resource{
		ReadContext: readInstanceTypes,
		Schema: map[string]*schema.Schema{
			"availability_zone": {Type: schema.TypeString, Optional: true, ConflictsWith: []string{"filter"}},
			"cpu_core_count":    {Type: schema.TypeInt, Optional: true},
			"memory_size":       {Type: schema.TypeInt, Optional: true},
			"exclude_sold_out":  {Type: schema.TypeBool, Optional: true, Default: false},
			"filter": {
				Type: schema.TypeSet, Optional: true, MaxItems: 10, ConflictsWith: []string{"availability_zone"},
				Elem: &schema.Resource{Schema: map[string]*schema.Schema{
					"name":   {Type: schema.TypeString, Required: true},
					"values": {Type: schema.TypeList, Required: true, Elem: &schema.Schema{Type: schema.TypeString}},
				}},
			},
			"instance_types": computedList(map[string]*schema.Schema{
				"availability_zone":    computed(schema.TypeString),
				"instance_type":        computed(schema.TypeString),
				"cpu_core_count":       computed(schema.TypeInt),
				"gpu_core_count":       computed(schema.TypeInt),
				"memory_size":          computed(schema.TypeInt),
				"family":               computed(schema.TypeString),
				"instance_charge_type": computed(schema.TypeString),
				"status":               computed(schema.TypeString),
			}),
		},
	}
}

func readInstanceTypes(_ context.Context, d *schema.ResourceData, meta interface{}) diag.Diagnostics {
	c := meta.(*clients)
	req := cvm.NewDescribeZoneInstanceConfigInfosRequest()
	for _, raw := range d.Get("filter").(*schema.Set).List() {
		item := raw.(map[string]interface{})
		f := &cvm.Filter{Name: common.StringPtr(item["name"].(string))}
		for _, v := range item["values"].([]interface{}) {
			f.Values = append(f.Values, common.StringPtr(v.(string)))
		}
		req.Filters = append(req.Filters, f)
	}
	if z := d.Get("availability_zone").(string); z != "" {
		req.Filters = append(req.Filters, &cvm.Filter{Name: common.StringPtr("zone"), Values: common.StringPtrs([]string{z})})
	}
	resp, err := c.cvm.DescribeZoneInstanceConfigInfos(req)
	if err != nil {
		return diag.FromErr(err)
	}
	cpu, cpuOk := d.GetOk("cpu_core_count")
	mem, memOk := d.GetOk("memory_size")
	soldOut := d.Get("exclude_sold_out").(bool)
	types := make([]map[string]interface{}, 0)
	ids := make([]string, 0)
	for _, t := range resp.Response.InstanceTypeQuotaSet {
		if cpuOk && cpu.(int) != i64(t.Cpu) || memOk && mem.(int) != i64(t.Memory) {
			continue
		}
		if soldOut && str(t.Status) == "SOLD_OUT" {
			continue
		}
		types = append(types, map[string]interface{}{
			"availability_zone": str(t.Zone), "instance_type": str(t.InstanceType), "cpu_core_count": i64(t.Cpu),
			"gpu_core_count": i64(t.Gpu), "memory_size": i64(t.Memory), "family": str(t.InstanceFamily),
			"instance_charge_type": str(t.InstanceChargeType), "status": str(t.Status),
		})
		ids = append(ids, str(t.Zone)+"/"+str(t.InstanceType)+"/"+str(t.InstanceChargeType))
	}
	d.SetId(idsHash(ids))
	return diag.FromErr(d.Set("instance_types", types))
}
