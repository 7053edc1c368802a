module tclocal.invalid/compat/go

go 1.21

require github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/cvm v1.3.183

require github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/common v1.3.210 // indirect

exclude github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/common v1.3.183
