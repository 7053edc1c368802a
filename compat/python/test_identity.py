"""Identity through the official Python SDKs: CAM sub-users, keys and policies
(`tencentcloud-sdk-python-cam`), STS temporary credentials (`-sts`), and what they may do with
CVM (`-cvm`), with typed request models as a user writes them.

The scenario of the identity issue: root creates a sub-user with the read-only CVM preset; the
sub-user can DescribeInstances but not RunInstances; a deny policy wins; a role assumed through
STS works until it expires, then AuthFailure.TokenFailure; a disabled key is
AuthFailure.SecretIdNotFound; MFA-protected termination fails without MFA and succeeds with it.
The same flows over a raw socket: crates/server/tests/it/identity.rs.

Every test gets a fresh `tclocal serve --ephemeral` (default flags: `--auth strict`,
`--cam strict`). Temporary credentials are passed the way the SDK takes them:
`credential.Credential(TmpSecretId, TmpSecretKey, Token)`, which sends `X-TC-Token`.
"""

from __future__ import annotations

import json
import re
import time
import urllib.parse

import pytest
from tencentcloud.cam.v20190116 import cam_client
from tencentcloud.cam.v20190116 import models as cam_models
from tencentcloud.common import credential
from tencentcloud.cvm.v20170312 import cvm_client
from tencentcloud.cvm.v20170312 import models as cvm_models
from tencentcloud.sts.v20180813 import models as sts_models
from tencentcloud.sts.v20180813 import sts_client

import tcsupport as t

# The default account (README "Development credentials").
ROOT = (t.DEV_SECRET_ID, t.DEV_SECRET_KEY)
APP_ID = 1250000000
OWNER_UIN = "100000000001"

# Preset policies (CAM PolicyId).
ADMINISTRATOR_ACCESS = 1000001
CVM_FULL_ACCESS = 1000011
CVM_READ_ONLY_ACCESS = 1000012

TENCENTOS = "img-zsxdft8i"  # TencentOS Server 3.1
LAUNCH_S = 10  # default --cvm-timings launch

ROOT_TRUST = json.dumps(
    {
        "version": "2.0",
        "statement": [
            {
                "effect": "allow",
                "action": "name/sts:AssumeRole",
                "principal": {"qcs": [f"qcs::cam::uin/{OWNER_UIN}:root"]},
            }
        ],
    }
)
DENY_RUN_INSTANCES = json.dumps(
    {"version": "2.0", "statement": [{"effect": "deny", "action": ["cvm:RunInstances"], "resource": "*"}]}
)


@pytest.fixture
def tc(tclocal_serve):
    return tclocal_serve("identity")


# --- clients, as a user builds them -------------------------------------------------------------


def cred(key, token: str | None = None) -> credential.Credential:
    secret_id, secret_key = key
    return credential.Credential(secret_id, secret_key, token)


def cam(server, key=ROOT, token=None) -> cam_client.CamClient:
    # CAM is not regional: the SDK sends no X-TC-Region when the region is empty.
    return cam_client.CamClient(cred(key, token), "", t.profile(server))


def sts(server, key=ROOT, token=None) -> sts_client.StsClient:
    return sts_client.StsClient(cred(key, token), t.REGION, t.profile(server))


def cvm(server, key=ROOT, token=None) -> cvm_client.CvmClient:
    return cvm_client.CvmClient(cred(key, token), t.REGION, t.profile(server))


def tmp(creds) -> tuple[tuple[str, str], str]:
    """((TmpSecretId, TmpSecretKey), Token) of an STS Credentials model."""
    return (creds.TmpSecretId, creds.TmpSecretKey), creds.Token


# --- typed CAM / STS / CVM requests -------------------------------------------------------------


def add_user(server, name: str, use_api: int = 1, key=ROOT) -> cam_models.AddUserResponse:
    req = cam_models.AddUserRequest()
    req.Name, req.UseApi = name, use_api
    resp = cam(server, key).AddUser(req)
    t.assert_request_id(resp.RequestId)
    return resp


def user_key(user: cam_models.AddUserResponse) -> tuple[str, str]:
    return user.SecretId, user.SecretKey


def attach(server, policy_id: int, uin: int, key=ROOT):
    req = cam_models.AttachUserPolicyRequest()
    req.PolicyId, req.AttachUin = policy_id, uin
    return cam(server, key).AttachUserPolicy(req)


def detach(server, policy_id: int, uin: int):
    req = cam_models.DetachUserPolicyRequest()
    req.PolicyId, req.DetachUin = policy_id, uin
    return cam(server).DetachUserPolicy(req)


def create_policy(server, name: str, document: str) -> int:
    req = cam_models.CreatePolicyRequest()
    req.PolicyName, req.PolicyDocument = name, document
    return cam(server).CreatePolicy(req).PolicyId


def create_access_key(server, uin: int, key=ROOT) -> cam_models.AccessKeyDetail:
    req = cam_models.CreateAccessKeyRequest()
    req.TargetUin = uin
    return cam(server, key).CreateAccessKey(req).AccessKey


def update_access_key(server, uin: int, key_id: str, status: str):
    req = cam_models.UpdateAccessKeyRequest()
    req.TargetUin, req.AccessKeyId, req.Status = uin, key_id, status
    return cam(server).UpdateAccessKey(req)


def list_access_keys(server, uin: int) -> list:
    req = cam_models.ListAccessKeysRequest()
    req.TargetUin = uin
    return cam(server).ListAccessKeys(req).AccessKeys


def protect_operations(server, uin: int):
    """SetMfaFlag with ActionFlag.Stoken = 1: operation protection by a virtual MFA device."""
    flag = cam_models.LoginActionFlag()
    flag.Stoken = 1
    req = cam_models.SetMfaFlagRequest()
    req.OpUin, req.ActionFlag = uin, flag
    return cam(server).SetMfaFlag(req)


def create_role(server, name: str, trust: str = ROOT_TRUST, *policy_ids: int, key=ROOT) -> str:
    req = cam_models.CreateRoleRequest()
    req.RoleName, req.PolicyDocument = name, trust
    role_id = cam(server, key).CreateRole(req).RoleId
    for pid in policy_ids:
        a = cam_models.AttachRolePolicyRequest()
        a.PolicyId, a.AttachRoleName = pid, name
        cam(server, key).AttachRolePolicy(a)
    return role_id


def role_arn(name: str, owner: str = OWNER_UIN) -> str:
    return f"qcs::cam::uin/{owner}:roleName/{name}"


def assume_role(server, arn: str, duration: int | None = None, key=ROOT) -> sts_models.AssumeRoleResponse:
    req = sts_models.AssumeRoleRequest()
    req.RoleArn, req.RoleSessionName = arn, "ci"
    if duration is not None:
        req.DurationSeconds = duration
    return sts(server, key).AssumeRole(req)


def session_token(server, key, serial: str, code: str) -> sts_models.GetSessionTokenResponse:
    req = sts_models.GetSessionTokenRequest()
    req.SerialNumber, req.TokenCode = serial, code
    return sts(server, key).GetSessionToken(req)


def caller_identity(server, key=ROOT, token=None) -> sts_models.GetCallerIdentityResponse:
    return sts(server, key, token).GetCallerIdentity(sts_models.GetCallerIdentityRequest())


def user_app_id(server, key=ROOT, token=None) -> cam_models.GetUserAppIdResponse:
    return cam(server, key, token).GetUserAppId(cam_models.GetUserAppIdRequest())


def describe_instances(client) -> cvm_models.DescribeInstancesResponse:
    return client.DescribeInstances(cvm_models.DescribeInstancesRequest())


def describe_zones(client) -> cvm_models.DescribeZonesResponse:
    return client.DescribeZones(cvm_models.DescribeZonesRequest())


def run_instances(client, dry_run: bool = False) -> list[str]:
    placement = cvm_models.Placement()
    placement.Zone = "ap-guangzhou-3"
    req = cvm_models.RunInstancesRequest()
    req.Placement, req.ImageId, req.InstanceType = placement, TENCENTOS, "S5.MEDIUM2"
    if dry_run:
        req.DryRun = True
    return list(client.RunInstances(req).InstanceIdSet)


def terminate_instances(client, ids) -> cvm_models.TerminateInstancesResponse:
    req = cvm_models.TerminateInstancesRequest()
    req.InstanceIds = list(ids)
    return client.TerminateInstances(req)


def instance_states(client, ids) -> dict[str, str]:
    req = cvm_models.DescribeInstancesStatusRequest()
    req.InstanceIds = list(ids)
    return {s.InstanceId: s.InstanceState for s in client.DescribeInstancesStatus(req).InstanceStatusSet}


def mfa_device(server, uin) -> str:
    status, body = t.control(server, "POST", "/_tclocal/mfa", {"uin": str(uin)})
    assert status == 201, body
    return body["SerialNumber"]


def mfa_code(server, serial: str) -> str:
    status, body = t.control(server, "GET", "/_tclocal/mfa/code?serial=" + urllib.parse.quote(serial, safe=""))
    assert status == 200, body
    assert re.fullmatch(r"\d{6}", body["TokenCode"]), body
    return body["TokenCode"]


# --- sub-users and policies -------------------------------------------------------------------


def test_add_user_with_use_api_returns_a_key_pair_and_get_user_finds_the_user(tc):
    user = add_user(tc, "dev")
    assert isinstance(user.Uin, int) and user.Name == "dev"
    assert re.fullmatch(r"AKID[0-9A-Za-z]{32}", user.SecretId), user.SecretId
    assert user.SecretKey and user.SecretKey != t.DEV_SECRET_KEY

    req = cam_models.GetUserRequest()
    req.Name = "dev"
    got = cam(tc).GetUser(req)
    assert (got.Uin, got.Name) == (user.Uin, "dev")
    assert [u.Name for u in cam(tc).ListUsers(cam_models.ListUsersRequest()).Data] == ["dev"]
    keys = list_access_keys(tc, user.Uin)
    assert [(k.AccessKeyId, k.Status) for k in keys] == [(user.SecretId, "Active")]


def test_get_user_of_an_unknown_name_is_resource_not_found_user_not_exist(tc):
    req = cam_models.GetUserRequest()
    req.Name = "nobody"
    t.expect_error(lambda: cam(tc).GetUser(req), "ResourceNotFound.UserNotExist")


def test_adding_a_user_name_in_use_is_invalid_parameter_sub_user_name_in_use(tc):
    add_user(tc, "dev")
    t.expect_error(lambda: add_user(tc, "dev"), "InvalidParameter.SubUserNameInUse")


def test_policy_document_that_does_not_parse_is_invalid_parameter_policy_document_error(tc):
    t.expect_error(lambda: create_policy(tc, "broken", "{not json"), "InvalidParameter.PolicyDocumentError")


def test_policy_name_in_use_is_failed_operation_policy_name_in_use(tc):
    create_policy(tc, "no-run", DENY_RUN_INSTANCES)
    t.expect_error(lambda: create_policy(tc, "no-run", DENY_RUN_INSTANCES), "FailedOperation.PolicyNameInUse")


def test_sub_user_without_policies_is_auth_failure_unauthorized_operation_naming_the_action(tc):
    user = add_user(tc, "dev")
    err = t.expect_error(lambda: describe_instances(cvm(tc, user_key(user))), "AuthFailure.UnauthorizedOperation")
    assert "cvm:DescribeInstances" in err.get_message(), err.get_message()


def test_read_only_cvm_preset_allows_describe_instances_but_not_run_instances(tc):
    user = add_user(tc, "dev")
    attach(tc, CVM_READ_ONLY_ACCESS, user.Uin)
    client = cvm(tc, user_key(user))

    resp = describe_instances(client)
    t.assert_request_id(resp.RequestId)
    assert resp.TotalCount == 0
    err = t.expect_error(lambda: run_instances(client), "AuthFailure.UnauthorizedOperation")
    assert "cvm:RunInstances" in err.get_message(), err.get_message()
    # Nothing was launched.
    assert describe_instances(cvm(tc)).TotalCount == 0


def test_full_access_preset_lets_the_sub_user_launch(tc):
    user = add_user(tc, "dev")
    attach(tc, CVM_FULL_ACCESS, user.Uin)
    (iid,) = run_instances(cvm(tc, user_key(user)))
    # The instance belongs to the account: root sees it.
    assert [i.InstanceId for i in describe_instances(cvm(tc)).InstanceSet] == [iid]


def test_explicit_deny_policy_wins_over_full_access_with_unauthorized_operation(tc):
    user = add_user(tc, "dev")
    attach(tc, CVM_READ_ONLY_ACCESS, user.Uin)
    attach(tc, CVM_FULL_ACCESS, user.Uin)
    client = cvm(tc, user_key(user))
    run_instances(client)

    deny_id = create_policy(tc, "no-run", DENY_RUN_INSTANCES)
    attach(tc, deny_id, user.Uin)
    t.expect_error(lambda: run_instances(client), "UnauthorizedOperation")
    # The deny names one action: the others stay allowed.
    assert describe_instances(client).TotalCount == 1

    req = cam_models.ListAttachedUserPoliciesRequest()
    req.TargetUin = user.Uin
    attached = cam(tc).ListAttachedUserPolicies(req)
    assert attached.TotalNum == 3
    assert sorted(int(p.PolicyId) for p in attached.List) == sorted([CVM_READ_ONLY_ACCESS, CVM_FULL_ACCESS, deny_id])


def test_detaching_the_deny_policy_allows_the_call_again(tc):
    user = add_user(tc, "dev")
    attach(tc, CVM_FULL_ACCESS, user.Uin)
    deny_id = create_policy(tc, "no-run", DENY_RUN_INSTANCES)
    attach(tc, deny_id, user.Uin)
    client = cvm(tc, user_key(user))
    t.expect_error(lambda: run_instances(client), "UnauthorizedOperation")
    detach(tc, deny_id, user.Uin)
    assert len(run_instances(client)) == 1


def test_sub_user_with_a_cvm_policy_cannot_manage_cam(tc):
    user = add_user(tc, "dev")
    attach(tc, CVM_FULL_ACCESS, user.Uin)
    req = cam_models.AddUserRequest()
    req.Name = "intruder"
    t.expect_error(lambda: cam(tc, user_key(user)).AddUser(req), "AuthFailure.UnauthorizedOperation")


def test_root_key_is_allowed_everything_without_policies(tc):
    assert describe_instances(cvm(tc)).TotalCount == 0
    assert len(run_instances(cvm(tc))) == 1


# --- who is calling ----------------------------------------------------------------------------


def test_get_user_app_id_names_the_root_account_and_the_sub_user(tc):
    root = user_app_id(tc)
    assert (root.AppId, root.OwnerUin, root.Uin) == (APP_ID, OWNER_UIN, OWNER_UIN)

    user = add_user(tc, "dev")
    # GetUserAppId needs no policy: every principal may ask who it is.
    sub = user_app_id(tc, user_key(user))
    assert (sub.AppId, sub.OwnerUin, sub.Uin) == (APP_ID, OWNER_UIN, str(user.Uin))


def test_get_caller_identity_names_root_sub_user_and_assumed_role(tc):
    root = caller_identity(tc)
    t.assert_request_id(root.RequestId)
    assert (root.Type, root.AccountId, root.PrincipalId) == ("RootAccount", OWNER_UIN, OWNER_UIN)
    assert root.Arn == f"qcs::cam::uin/{OWNER_UIN}:uin/{OWNER_UIN}"

    user = add_user(tc, "dev")
    sub = caller_identity(tc, user_key(user))
    assert (sub.Type, sub.AccountId, sub.PrincipalId) == ("CAMUser", OWNER_UIN, str(user.Uin))
    assert sub.Arn == f"qcs::cam::uin/{OWNER_UIN}:uin/{user.Uin}"

    role_id = create_role(tc, "reader", ROOT_TRUST, CVM_READ_ONLY_ACCESS)
    key, token = tmp(assume_role(tc, role_arn("reader")).Credentials)
    role = caller_identity(tc, key, token)
    assert (role.Type, role.AccountId) == ("AssumedRole", OWNER_UIN)
    assert role.Arn == f"qcs::sts:{OWNER_UIN}:assumed-role/{role_id}/ci", role.Arn
    assert role.UserId == f"{role_id}:ci"


# --- STS: roles and temporary credentials -------------------------------------------------------


def test_assumed_role_works_with_its_token_until_it_expires_then_token_failure(tc):
    create_role(tc, "reader", ROOT_TRUST, CVM_READ_ONLY_ACCESS)
    assumed = assume_role(tc, role_arn("reader"), duration=600)
    t.assert_request_id(assumed.RequestId)
    key, token = tmp(assumed.Credentials)
    # Temporary SecretIds are longer than permanent ones (as in the cloud).
    assert re.fullmatch(r"AKID[0-9A-Za-z]{32,}", key[0]), key[0]
    assert token
    now_s = t.emulated_now_ms(tc) // 1000
    assert abs(assumed.ExpiredTime - (now_s + 600)) <= 2, (assumed.ExpiredTime, now_s)
    assert assumed.Expiration.endswith("Z"), assumed.Expiration

    client = cvm(tc, key, token)
    assert describe_instances(client).TotalCount == 0
    t.advance_clock(tc, 590)
    assert describe_instances(client).TotalCount == 0, "still valid 10 s before it expires"
    t.advance_clock(tc, 11)
    t.expect_error(lambda: describe_instances(client), "AuthFailure.TokenFailure")


def test_temporary_key_without_its_token_is_token_failure(tc):
    create_role(tc, "reader", ROOT_TRUST, CVM_READ_ONLY_ACCESS)
    key, _token = tmp(assume_role(tc, role_arn("reader")).Credentials)
    t.expect_error(lambda: describe_zones(cvm(tc, key)), "AuthFailure.TokenFailure")


def test_temporary_key_with_a_wrong_token_is_token_failure(tc):
    create_role(tc, "reader", ROOT_TRUST, CVM_READ_ONLY_ACCESS)
    key, token = tmp(assume_role(tc, role_arn("reader")).Credentials)
    t.expect_error(lambda: describe_zones(cvm(tc, key, "forged")), "AuthFailure.TokenFailure")
    # Another session's token does not fit either.
    _other_key, other_token = tmp(assume_role(tc, role_arn("reader")).Credentials)
    assert other_token != token
    t.expect_error(lambda: describe_zones(cvm(tc, key, other_token)), "AuthFailure.TokenFailure")


def test_token_sent_with_a_permanent_key_is_ignored(tc):
    # As in the cloud: only temporary keys are checked against a token.
    assert describe_zones(cvm(tc, ROOT, "anything")).ZoneSet


def test_assumed_role_gets_only_the_role_policies(tc):
    create_role(tc, "reader", ROOT_TRUST, CVM_READ_ONLY_ACCESS)
    # Root assumes the role, and still gets only what the role may do.
    key, token = tmp(assume_role(tc, role_arn("reader")).Credentials)
    client = cvm(tc, key, token)
    assert describe_instances(client).TotalCount == 0
    t.expect_error(lambda: run_instances(client), "AuthFailure.UnauthorizedOperation")


def test_assume_role_of_an_unknown_role_is_resource_not_found_role_not_found(tc):
    t.expect_error(lambda: assume_role(tc, role_arn("nobody")), "ResourceNotFound.RoleNotFound")


def test_federation_token_is_bounded_by_its_policy(tc):
    allow_zones = json.dumps(
        {"version": "2.0", "statement": [{"effect": "allow", "action": ["cvm:DescribeZones"], "resource": "*"}]}
    )
    req = sts_models.GetFederationTokenRequest()
    req.Name, req.DurationSeconds = "partner", 900
    # The API documentation asks for the policy URL-encoded.
    req.Policy = urllib.parse.quote(allow_zones, safe="")
    fed = sts(tc).GetFederationToken(req)
    key, token = tmp(fed.Credentials)

    client = cvm(tc, key, token)
    assert describe_zones(client).ZoneSet
    t.expect_error(lambda: describe_instances(client), "AuthFailure.UnauthorizedOperation")
    assert caller_identity(tc, key, token).Type == "FederatedUser"
    t.advance_clock(tc, 901)
    t.expect_error(lambda: describe_zones(client), "AuthFailure.TokenFailure")


# --- keys --------------------------------------------------------------------------------------


def test_disabled_key_is_secret_id_not_found_until_enabled_again(tc):
    user = add_user(tc, "ops", use_api=0)
    attach(tc, CVM_READ_ONLY_ACCESS, user.Uin)
    ak = create_access_key(tc, user.Uin)
    assert ak.Status == "Active"
    key = (ak.AccessKeyId, ak.SecretAccessKey)
    assert describe_zones(cvm(tc, key)).ZoneSet

    update_access_key(tc, user.Uin, ak.AccessKeyId, "Inactive")
    t.expect_error(lambda: describe_zones(cvm(tc, key)), "AuthFailure.SecretIdNotFound")
    assert [k.Status for k in list_access_keys(tc, user.Uin)] == ["Inactive"]

    update_access_key(tc, user.Uin, ak.AccessKeyId, "Active")
    assert describe_zones(cvm(tc, key)).ZoneSet


def test_key_disabled_through_the_control_plane_is_secret_id_not_found(tc):
    user = add_user(tc, "dev")
    attach(tc, CVM_READ_ONLY_ACCESS, user.Uin)
    key = user_key(user)
    status, body = t.control(tc, "POST", f"/_tclocal/keys/{key[0]}/disable")
    assert (status, body) == (200, {"SecretId": key[0], "Enabled": False})
    t.expect_error(lambda: describe_zones(cvm(tc, key)), "AuthFailure.SecretIdNotFound")
    status, _ = t.control(tc, "POST", f"/_tclocal/keys/{key[0]}/enable")
    assert status == 200
    assert describe_zones(cvm(tc, key)).ZoneSet


def test_deleted_key_is_secret_id_not_found(tc):
    user = add_user(tc, "ops", use_api=0)
    attach(tc, CVM_READ_ONLY_ACCESS, user.Uin)
    ak = create_access_key(tc, user.Uin)
    key = (ak.AccessKeyId, ak.SecretAccessKey)
    assert describe_zones(cvm(tc, key)).ZoneSet

    req = cam_models.DeleteAccessKeyRequest()
    req.TargetUin, req.AccessKeyId = user.Uin, ak.AccessKeyId
    cam(tc).DeleteAccessKey(req)
    t.expect_error(lambda: describe_zones(cvm(tc, key)), "AuthFailure.SecretIdNotFound")
    assert list_access_keys(tc, user.Uin) == []


def test_a_third_access_key_is_operation_denied_access_key_over_limit(tc):
    user = add_user(tc, "ops")  # UseApi=1: the first key
    create_access_key(tc, user.Uin)
    t.expect_error(lambda: create_access_key(tc, user.Uin), "OperationDenied.AccessKeyOverLimit")


def test_deleting_a_user_with_keys_needs_force(tc):
    add_user(tc, "ops")
    req = cam_models.DeleteUserRequest()
    req.Name = "ops"
    t.expect_error(lambda: cam(tc).DeleteUser(req), "OperationDenied.HaveKeys")
    req.Force = 1
    cam(tc).DeleteUser(req)
    get = cam_models.GetUserRequest()
    get.Name = "ops"
    t.expect_error(lambda: cam(tc).GetUser(get), "ResourceNotFound.UserNotExist")


def test_deleted_user_key_is_secret_id_not_found(tc):
    user = add_user(tc, "ops")
    attach(tc, CVM_READ_ONLY_ACCESS, user.Uin)
    assert describe_zones(cvm(tc, user_key(user))).ZoneSet
    req = cam_models.DeleteUserRequest()
    req.Name, req.Force = "ops", 1
    cam(tc).DeleteUser(req)
    t.expect_error(lambda: describe_zones(cvm(tc, user_key(user))), "AuthFailure.SecretIdNotFound")


# --- MFA ---------------------------------------------------------------------------------------


def test_mfa_protected_termination_fails_without_mfa_and_succeeds_with_session_token(tc):
    # Root launches a real instance and lets it reach RUNNING.
    (iid,) = run_instances(cvm(tc))
    t.advance_clock(tc, LAUNCH_S)
    assert instance_states(cvm(tc), [iid]) == {iid: "RUNNING"}

    user = add_user(tc, "admin")
    attach(tc, CVM_FULL_ACCESS, user.Uin)
    protect_operations(tc, user.Uin)
    key = user_key(user)
    t.expect_error(lambda: terminate_instances(cvm(tc, key), [iid]), "AuthFailure.MFAFailure")
    # Operation protection covers sensitive actions only.
    assert instance_states(cvm(tc, key), [iid]) == {iid: "RUNNING"}

    serial = mfa_device(tc, user.Uin)
    stale = mfa_code(tc, serial)
    t.advance_clock(tc, 60)  # two 30-second steps: that code is no longer accepted
    if stale != mfa_code(tc, serial):
        t.expect_error(lambda: session_token(tc, key, serial, stale), "FailedOperation.CheckMFAError")

    issued = session_token(tc, key, serial, mfa_code(tc, serial))
    t.assert_request_id(issued.RequestId)
    mfa_key, mfa_token = tmp(issued.Credentials)
    resp = terminate_instances(cvm(tc, mfa_key, mfa_token), [iid])
    t.assert_request_id(resp.RequestId)
    assert instance_states(cvm(tc), [iid]) == {iid: "TERMINATING"}


def test_session_token_credentials_keep_the_user_policies(tc):
    user = add_user(tc, "dev")
    attach(tc, CVM_READ_ONLY_ACCESS, user.Uin)
    serial = mfa_device(tc, user.Uin)
    key, token = tmp(session_token(tc, user_key(user), serial, mfa_code(tc, serial)).Credentials)
    client = cvm(tc, key, token)
    assert describe_instances(client).TotalCount == 0
    t.expect_error(lambda: run_instances(client), "AuthFailure.UnauthorizedOperation")
    t.expect_error(lambda: describe_instances(cvm(tc, key)), "AuthFailure.TokenFailure")


# --- accounts ----------------------------------------------------------------------------------


def second_account(server) -> dict:
    status, body = t.control(server, "POST", "/_tclocal/accounts")
    assert status == 201, body
    return body


def test_second_account_from_the_control_plane_is_its_own_caller(tc):
    other = second_account(tc)
    key = (other["SecretId"], other["SecretKey"])
    me = user_app_id(tc, key)
    assert (me.AppId, me.OwnerUin, me.Uin) == (other["AppId"], other["OwnerUin"], other["OwnerUin"])
    assert (me.AppId, me.OwnerUin) != (APP_ID, OWNER_UIN)
    assert caller_identity(tc, key).AccountId == other["OwnerUin"]
    status, listed = t.control(tc, "GET", "/_tclocal/accounts")
    assert status == 200
    assert {a["OwnerUin"] for a in listed["accounts"]} == {OWNER_UIN, other["OwnerUin"]}


def test_second_account_sees_neither_the_users_nor_the_policies_of_the_first(tc):
    add_user(tc, "dev")
    policy_id = create_policy(tc, "no-run", DENY_RUN_INSTANCES)
    other = second_account(tc)
    key = (other["SecretId"], other["SecretKey"])
    assert cam(tc, key).ListUsers(cam_models.ListUsersRequest()).Data == []
    req = cam_models.GetUserRequest()
    req.Name = "dev"
    t.expect_error(lambda: cam(tc, key).GetUser(req), "ResourceNotFound.UserNotExist")
    get = cam_models.GetPolicyRequest()
    get.PolicyId = policy_id
    t.expect_error(lambda: cam(tc, key).GetPolicy(get), "ResourceNotFound.PolicyIdNotFound")


def test_a_role_trusting_only_the_first_account_cannot_be_assumed_by_the_second(tc):
    create_role(tc, "reader", ROOT_TRUST, CVM_READ_ONLY_ACCESS)
    other = second_account(tc)
    t.expect_error(
        lambda: assume_role(tc, role_arn("reader"), key=(other["SecretId"], other["SecretKey"])),
        "UnauthorizedOperation",
    )


# --- --cam soft / off --------------------------------------------------------------------------


@pytest.mark.parametrize("mode", ["soft", "off"])
def test_cam_soft_and_off_let_a_denied_call_through(tclocal_serve, mode):
    server = tclocal_serve(f"cam-{mode}", "--cam", mode)
    user = add_user(server, "dev")
    resp = describe_instances(cvm(server, user_key(user)))
    assert resp.TotalCount == 0
    status, entry = t.control(server, "GET", f"/_tclocal/requests/{resp.RequestId}")
    assert status == 200, entry
    assert entry["code"] is None, entry  # a success has no error code in the journal
    if mode == "soft":
        # The journal keeps the decision that was overridden.
        assert "cam soft: AuthFailure.UnauthorizedOperation" in entry["auth"], entry
    else:
        assert "cam soft" not in entry["auth"], entry


# --- secrets never reach the log ---------------------------------------------------------------


def _wait_for_log(server, needle: str, timeout_s: float = 5.0) -> str:
    deadline = time.monotonic() + timeout_s
    while True:
        with open(server.log_path, encoding="utf-8", errors="replace") as fh:
            text = fh.read()
        if needle in text or time.monotonic() > deadline:
            return text
        time.sleep(0.05)


def test_no_secret_reaches_the_trace_log(tclocal_serve):
    # A root key of our own: the well-known development key is public on purpose and the
    # start-up banner prints it (README "Development credentials"); a configured one is secret.
    root = ("AKID" + "TraceRootKey" + "0" * 20, "traceRootSecretKey-not-public-01")
    server = tclocal_serve(
        "identity-trace",
        env={"TCLOCAL_LOG": "tclocal=trace", "TCLOCAL_SECRET_ID": root[0], "TCLOCAL_SECRET_KEY": root[1]},
    )
    secrets: dict[str, str] = {"root SecretKey": root[1]}

    # A successful call, and a failing signature (right SecretId, wrong SecretKey).
    describe_zones(cvm(server, root))
    wrong_key = "w" * 32
    secrets["wrong SecretKey"] = wrong_key
    t.expect_error(lambda: describe_zones(cvm(server, (root[0], wrong_key))), "AuthFailure.SignatureFailure")

    # AddUser with UseApi (SecretKey), CreateAccessKey (SecretAccessKey).
    user = add_user(server, "dev", key=root)
    secrets["AddUser SecretKey"] = user.SecretKey
    attach(server, CVM_READ_ONLY_ACCESS, user.Uin, key=root)
    ak = create_access_key(server, user.Uin, key=root)
    secrets["CreateAccessKey SecretAccessKey"] = ak.SecretAccessKey
    describe_zones(cvm(server, user_key(user)))
    t.expect_error(lambda: describe_zones(cvm(server, (user.SecretId, wrong_key))), "AuthFailure.SignatureFailure")

    # STS: AssumeRole, then calls with the token, a wrong token, and a wrong temporary key.
    create_role(server, "reader", ROOT_TRUST, CVM_READ_ONLY_ACCESS, key=root)
    creds = assume_role(server, role_arn("reader"), key=root).Credentials
    secrets["AssumeRole TmpSecretKey"] = creds.TmpSecretKey
    secrets["AssumeRole Token"] = creds.Token
    key, token = tmp(creds)
    describe_zones(cvm(server, key, token))
    t.expect_error(lambda: describe_zones(cvm(server, key, "forged-token")), "AuthFailure.TokenFailure")
    t.expect_error(lambda: describe_zones(cvm(server, (key[0], wrong_key), token)), "AuthFailure.SignatureFailure")

    # MFA: GetSessionToken (TmpSecretKey, Token).
    serial = mfa_device(server, user.Uin)
    session = session_token(server, user_key(user), serial, mfa_code(server, serial)).Credentials
    secrets["GetSessionToken TmpSecretKey"] = session.TmpSecretKey
    secrets["GetSessionToken Token"] = session.Token

    # Control plane: a second account's root key, and another key for that root.
    other = second_account(server)
    secrets["second account SecretKey"] = other["SecretKey"]
    status, made = t.control(server, "POST", "/_tclocal/keys", {"uin": other["OwnerUin"]})
    assert status == 201, made
    secrets["control-plane key SecretKey"] = made["SecretKey"]

    # A last call whose RequestId proves the log has caught up.
    last = describe_zones(cvm(server, root))
    log = _wait_for_log(server, last.RequestId)
    assert last.RequestId in log, "trace logging is off or the log is behind:\n" + log[-2000:]
    assert "DescribeZones" in log and "AssumeRole" in log and "signature mismatch" in log
    assert root[0] in log, "the banner names the configured SecretId (not a secret)"
    leaked = [what for what, value in secrets.items() if value and value in log]
    assert leaked == [], f"secrets in the server log: {leaked}"


def test_no_secret_reaches_the_journal_or_the_resources_dump(tc):
    user = add_user(tc, "dev")
    create_role(tc, "reader", ROOT_TRUST, CVM_READ_ONLY_ACCESS)
    creds = assume_role(tc, role_arn("reader")).Credentials
    t.expect_error(lambda: describe_zones(cvm(tc, (user.SecretId, "w" * 32))), "AuthFailure.SignatureFailure")
    secrets = [t.DEV_SECRET_KEY, user.SecretKey, creds.TmpSecretKey, creds.Token]

    status, journal = t.control(tc, "GET", "/_tclocal/requests?limit=100")
    assert status == 200
    dumps = [json.dumps(journal)]
    for entry in journal.get("requests", journal if isinstance(journal, list) else []):
        rid = entry.get("RequestId") or entry.get("request_id")
        if rid:
            dumps.append(json.dumps(t.control(tc, "GET", f"/_tclocal/requests/{rid}")[1]))
    status, resources = t.control(tc, "GET", "/_tclocal/resources")
    assert status == 200
    dumps.append(json.dumps(resources))
    status, keys = t.control(tc, "GET", "/_tclocal/keys")
    assert status == 200
    dumps.append(json.dumps(keys))
    text = "\n".join(dumps)
    assert user.SecretId in text, "the dumps should name the key (its id is not secret)"
    assert [s for s in secrets if s in text] == []
