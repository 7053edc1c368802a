package main

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"time"

	"github.com/hashicorp/terraform-plugin-sdk/v2/diag"
	"github.com/hashicorp/terraform-plugin-sdk/v2/helper/retry"
	"github.com/hashicorp/terraform-plugin-sdk/v2/helper/schema"
	"github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/common"
	sdkerrors "github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/common/errors"
	cvm "github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/cvm/v20170312"
	tag "github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/tag/v20180813"
)

// pollEvery is how often waits ask again; tclocal's transitions take seconds.
const pollEvery = time.Second

func resourceInstance() *schema.Resource {
	return &schema.Resource{
		CreateContext: createInstance,
		ReadContext:   readInstance,
		UpdateContext: updateInstance,
		DeleteContext: deleteInstance,
		Timeouts: &schema.ResourceTimeout{
			Create: schema.DefaultTimeout(5 * time.Minute),
			Delete: schema.DefaultTimeout(5 * time.Minute),
		},
		Schema: map[string]*schema.Schema{
			"availability_zone":    {Type: schema.TypeString, Required: true, ForceNew: true},
			"image_id":             {Type: schema.TypeString, Required: true, ForceNew: true},
			"instance_type":        {Type: schema.TypeString, Required: true, ForceNew: true},
			"instance_name":        {Type: schema.TypeString, Optional: true, Default: "Terraform-CVM-Instance"},
			"instance_charge_type": {Type: schema.TypeString, Optional: true, ForceNew: true, Default: "POSTPAID_BY_HOUR"},
			"project_id":           {Type: schema.TypeInt, Optional: true, ForceNew: true, Default: 0},
			"system_disk_type":     {Type: schema.TypeString, Optional: true, Computed: true, ForceNew: true},
			"system_disk_size":     {Type: schema.TypeInt, Optional: true, Computed: true, ForceNew: true},
			"tags":                 {Type: schema.TypeMap, Optional: true, ForceNew: true, Elem: &schema.Schema{Type: schema.TypeString}},
			"system_disk_id":       computed(schema.TypeString),
			"instance_status":      computed(schema.TypeString),
			"private_ip":           computed(schema.TypeString),
			"public_ip":            computed(schema.TypeString),
			"cpu":                  computed(schema.TypeInt),
			"memory":               computed(schema.TypeInt),
			"os_name":              computed(schema.TypeString),
			"create_time":          computed(schema.TypeString),
			"uuid":                 computed(schema.TypeString),
		},
	}
}

func createInstance(ctx context.Context, d *schema.ResourceData, meta interface{}) diag.Diagnostics {
	c := meta.(*clients)
	req := cvm.NewRunInstancesRequest()
	req.Placement = &cvm.Placement{
		Zone:      common.StringPtr(d.Get("availability_zone").(string)),
		ProjectId: common.Int64Ptr(int64(d.Get("project_id").(int))),
	}
	req.ImageId = common.StringPtr(d.Get("image_id").(string))
	req.InstanceType = common.StringPtr(d.Get("instance_type").(string))
	req.InstanceName = common.StringPtr(d.Get("instance_name").(string))
	req.InstanceChargeType = common.StringPtr(d.Get("instance_charge_type").(string))
	if t, ok := d.GetOk("system_disk_type"); ok || d.Get("system_disk_size").(int) > 0 {
		req.SystemDisk = &cvm.SystemDisk{}
		if ok {
			req.SystemDisk.DiskType = common.StringPtr(t.(string))
		}
		if s := d.Get("system_disk_size").(int); s > 0 {
			req.SystemDisk.DiskSize = common.Int64Ptr(int64(s))
		}
	}
	tags := wantedTags(d)
	if len(tags) > 0 {
		spec := &cvm.TagSpecification{ResourceType: common.StringPtr("instance")}
		for _, k := range sortedKeys(tags) {
			spec.Tags = append(spec.Tags, &cvm.Tag{Key: common.StringPtr(k), Value: common.StringPtr(tags[k])})
		}
		req.TagSpecification = []*cvm.TagSpecification{spec}
	}
	resp, err := c.cvm.RunInstances(req)
	if err != nil {
		return diag.FromErr(err)
	}
	if len(resp.Response.InstanceIdSet) != 1 {
		return diag.Errorf("RunInstances answered %d instance ids, want 1", len(resp.Response.InstanceIdSet))
	}
	id := *resp.Response.InstanceIdSet[0]
	d.SetId(id)

	err = retry.RetryContext(ctx, d.Timeout(schema.TimeoutCreate), func() *retry.RetryError {
		inst, err := describeInstance(c, id)
		switch {
		case err != nil:
			return retry.NonRetryableError(err)
		case inst == nil:
			return retry.RetryableError(fmt.Errorf("instance %s not visible yet", id))
		case str(inst.InstanceState) == "LAUNCH_FAILED":
			return retry.NonRetryableError(fmt.Errorf("instance %s launch failed: %s", id, str(inst.LatestOperationErrorMsg)))
		case str(inst.InstanceState) != "RUNNING":
			time.Sleep(pollEvery)
			return retry.RetryableError(fmt.Errorf("instance %s is %s", id, str(inst.InstanceState)))
		}
		return nil
	})
	if err != nil {
		return diag.FromErr(err)
	}
	// Tags reach the tag service after the instance exists: wait until they are all there,
	// as upstream does.
	if len(tags) > 0 {
		err = retry.RetryContext(ctx, d.Timeout(schema.TimeoutCreate), func() *retry.RetryError {
			got, err := resourceTags(c, id)
			if err != nil {
				return retry.NonRetryableError(err)
			}
			for k, v := range tags {
				if got[k] != v {
					time.Sleep(pollEvery)
					return retry.RetryableError(fmt.Errorf("tag %s of %s not attached yet", k, id))
				}
			}
			return nil
		})
		if err != nil {
			return diag.FromErr(err)
		}
	}
	return readInstance(ctx, d, meta)
}

func readInstance(_ context.Context, d *schema.ResourceData, meta interface{}) diag.Diagnostics {
	c := meta.(*clients)
	inst, err := describeInstance(c, d.Id())
	if err != nil {
		return diag.FromErr(err)
	}
	if inst == nil || str(inst.InstanceState) == "LAUNCH_FAILED" {
		d.SetId("")
		return nil
	}
	set := map[string]interface{}{
		"instance_name":        str(inst.InstanceName),
		"instance_type":        str(inst.InstanceType),
		"image_id":             str(inst.ImageId),
		"instance_charge_type": str(inst.InstanceChargeType),
		"instance_status":      str(inst.InstanceState),
		"cpu":                  i64(inst.CPU),
		"memory":               i64(inst.Memory),
		"os_name":              str(inst.OsName),
		"create_time":          str(inst.CreatedTime),
		"uuid":                 str(inst.Uuid),
	}
	if p := inst.Placement; p != nil {
		set["availability_zone"] = str(p.Zone)
		set["project_id"] = i64(p.ProjectId)
	}
	if s := inst.SystemDisk; s != nil {
		set["system_disk_type"] = str(s.DiskType)
		set["system_disk_size"] = i64(s.DiskSize)
		set["system_disk_id"] = str(s.DiskId)
	}
	if len(inst.PrivateIpAddresses) > 0 {
		set["private_ip"] = str(inst.PrivateIpAddresses[0])
	}
	if len(inst.PublicIpAddresses) > 0 {
		set["public_ip"] = str(inst.PublicIpAddresses[0])
	}
	tags, err := resourceTags(c, d.Id())
	if err != nil {
		return diag.FromErr(err)
	}
	set["tags"] = tags
	for k, v := range set {
		if err := d.Set(k, v); err != nil {
			return diag.FromErr(fmt.Errorf("setting %s: %w", k, err))
		}
	}
	return nil
}

func updateInstance(ctx context.Context, d *schema.ResourceData, meta interface{}) diag.Diagnostics {
	c := meta.(*clients)
	if d.HasChange("instance_name") {
		req := cvm.NewModifyInstancesAttributeRequest()
		req.InstanceIds = common.StringPtrs([]string{d.Id()})
		req.InstanceName = common.StringPtr(d.Get("instance_name").(string))
		if _, err := c.cvm.ModifyInstancesAttribute(req); err != nil {
			return diag.FromErr(err)
		}
	}
	return readInstance(ctx, d, meta)
}

func deleteInstance(ctx context.Context, d *schema.ResourceData, meta interface{}) diag.Diagnostics {
	c := meta.(*clients)
	id := d.Id()
	req := cvm.NewTerminateInstancesRequest()
	req.InstanceIds = common.StringPtrs([]string{id})
	if _, err := c.cvm.TerminateInstances(req); err != nil && !notFound(err) {
		return diag.FromErr(err)
	}
	err := retry.RetryContext(ctx, d.Timeout(schema.TimeoutDelete), func() *retry.RetryError {
		inst, err := describeInstance(c, id)
		if err != nil {
			return retry.NonRetryableError(err)
		}
		if inst != nil {
			time.Sleep(pollEvery)
			return retry.RetryableError(fmt.Errorf("instance %s is still %s", id, str(inst.InstanceState)))
		}
		return nil
	})
	return diag.FromErr(err)
}

// describeInstance is the instance, or nil when the cloud no longer has it.
func describeInstance(c *clients, id string) (*cvm.Instance, error) {
	req := cvm.NewDescribeInstancesRequest()
	req.InstanceIds = common.StringPtrs([]string{id})
	resp, err := c.cvm.DescribeInstances(req)
	if err != nil {
		if notFound(err) {
			return nil, nil
		}
		return nil, err
	}
	for _, inst := range resp.Response.InstanceSet {
		if str(inst.InstanceId) == id {
			return inst, nil
		}
	}
	return nil, nil
}

// resourceTags reads an instance's tags from the tag service, as upstream does.
func resourceTags(c *clients, id string) (map[string]string, error) {
	tags := map[string]string{}
	const limit = 100
	for offset := uint64(0); ; offset += limit {
		req := tag.NewDescribeResourceTagsByResourceIdsRequest()
		req.ServiceType = common.StringPtr("cvm")
		req.ResourcePrefix = common.StringPtr("instance")
		req.ResourceRegion = common.StringPtr(c.region)
		req.ResourceIds = common.StringPtrs([]string{id})
		req.Offset = common.Uint64Ptr(offset)
		req.Limit = common.Uint64Ptr(limit)
		resp, err := c.tag.DescribeResourceTagsByResourceIds(req)
		if err != nil {
			return nil, err
		}
		for _, t := range resp.Response.Tags {
			if str(t.ResourceId) == id {
				tags[str(t.TagKey)] = str(t.TagValue)
			}
		}
		if len(resp.Response.Tags) < limit {
			return tags, nil
		}
	}
}

func notFound(err error) bool {
	var e *sdkerrors.TencentCloudSDKError
	return errors.As(err, &e) && (e.Code == "InvalidInstanceId.NotFound" || e.Code == "ResourceNotFound.InstanceNotFound")
}

func wantedTags(d *schema.ResourceData) map[string]string {
	out := map[string]string{}
	for k, v := range d.Get("tags").(map[string]interface{}) {
		out[k] = v.(string)
	}
	return out
}

func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
