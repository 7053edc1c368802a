# One CVM instance, chosen with data sources, against tclocal. The names are the upstream
# tencentcloudstack/tencentcloud provider's; scripts/terraform.sh runs init, plan, apply, a
# second plan that must be empty, and destroy (see README.md beside this file).

terraform {
  required_providers {
    tencentcloud = {
      source = "tencentcloudstack/tencentcloud"
    }
  }
}

# Credentials and region come from TENCENTCLOUD_SECRET_ID/_KEY/_REGION; the API hosts keep
# their real names and reach tclocal through HTTPS_PROXY (transparent mode).
provider "tencentcloud" {}

variable "instance_name" {
  type    = string
  default = "tf-compat"
}

data "tencentcloud_availability_zones_by_product" "cvm" {
  product = "cvm"
}

data "tencentcloud_images" "ubuntu" {
  image_type = ["PUBLIC_IMAGE"]
  os_name    = "ubuntu"
}

locals {
  zone = data.tencentcloud_availability_zones_by_product.cvm.zones[0].name
}

data "tencentcloud_instance_types" "small" {
  filter {
    name   = "zone"
    values = [local.zone]
  }
  filter {
    name   = "instance-charge-type"
    values = ["POSTPAID_BY_HOUR"]
  }
  cpu_core_count   = 2
  memory_size      = 4
  exclude_sold_out = true
}

resource "tencentcloud_instance" "web" {
  instance_name     = var.instance_name
  availability_zone = local.zone
  image_id          = data.tencentcloud_images.ubuntu.images[0].image_id
  instance_type     = data.tencentcloud_instance_types.small.instance_types[0].instance_type
  system_disk_type  = "CLOUD_PREMIUM"
  system_disk_size  = 50
  tags = {
    owner = "tclocal-compat"
  }
}

output "instance_id" {
  value = tencentcloud_instance.web.id
}

output "instance_status" {
  value = tencentcloud_instance.web.instance_status
}

output "zone" {
  value = local.zone
}

output "instance_type" {
  value = tencentcloud_instance.web.instance_type
}
