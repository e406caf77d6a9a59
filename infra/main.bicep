// The webhook dispatcher in Azure: one Function App (Linux, Node 22, Functions v4) on a Flex Consumption
// plan, its storage account, Application Insights on a Log Analytics workspace, and a Key Vault for the
// two API keys. Deploy into an existing resource group:
//   az deployment group create -g <rg> -f infra/main.bicep -p @infra/main.parameters.json \
//     -p ingestApiKey=<secret> adminApiKey=<secret>
//
// Decisions (the README's "Deploying to Azure" says the same for operators):
// - Flex Consumption, not Consumption (Y1): Linux Consumption takes no new features or language versions
//   and is being retired; Flex scales per function (the queue-triggered deliverer scales apart from the HTTP
//   ingest), runs Durable Functions on Azure Storage, and still scales to zero.
// - Storage is an identity-based connection, as Azure recommends for Flex Consumption:
//   AzureWebJobsStorage__accountName (+ __credential managedidentity) and the app's system-assigned identity
//   with the storage roles it needs (blob data owner for the host's leases and the package, queue and table
//   data contributor for triggers, Durable and the app's own adapters, which take the same settings through
//   @azure/identity: src/adapters/storageConnection.ts). Shared key access is off and no account key is in
//   any app setting. Local runs keep connection strings (local.settings.json.example).
// - The API keys are @secure() parameters written to Key Vault once, and the app settings hold Key Vault
//   references to them (versionless, so a rotated secret is picked up without redeploying). Nobody with
//   read access to the app's configuration sees them, and the vault keeps an audit trail. If the platform
//   cannot resolve a reference it leaves the reference text as the value; the config codec refuses that.
// Every app setting the code decodes is listed in `appSettings` below; infra/__tests__ checks the list
// against src/config.ts so the two cannot drift.

@description('Name of the Function App (globally unique: it becomes <name>.azurewebsites.net). Other resource names derive from it.')
@minLength(2)
@maxLength(60)
param appName string

@description('Region of every resource; it must offer Flex Consumption (az functionapp list-flexconsumption-locations).')
param location string = resourceGroup().location

@description('Bearer key for POST /api/events (at least 32 characters, no spaces, different from adminApiKey).')
@secure()
@minLength(32)
param ingestApiKey string

@description('Bearer key for the registry and ops routes (at least 32 characters, no spaces).')
@secure()
@minLength(32)
param adminApiKey string

@description('Key that seals webhook signing secrets at rest: <keyId>:<base64 of 32 random bytes> (docs/secrets.md).')
@secure()
@minLength(46)
param secretsKey string

@description('Older secrets keys kept during a rotation, comma-separated, same form; empty when none (docs/secrets.md).')
@secure()
param secretsKeysPrevious string = ''
@description('SUBJECT_HASH_KEY: keys the erasure index (at least 32 characters, no spaces). Set once and never change it: a new key orphans the index (docs/privacy.md).')
@secure()
@minLength(32)
param subjectHashKey string

@description('Redundancy of the storage account that holds webhooks, events, attempts and the delivery queues.')
@allowed([
  'Standard_LRS'
  'Standard_ZRS'
  'Standard_GRS'
])
param storageSku string = 'Standard_LRS'

@description('Upper bound on Flex Consumption instances; each instance opens up to MAX_CONNECTIONS_PER_ORIGIN sockets per receiver.')
@minValue(40)
@maxValue(1000)
param maximumInstanceCount int = 100

@description('Memory of one Flex Consumption instance.')
@allowed([
  2048
  4096
])
param instanceMemoryMB int = 2048

@description('Days Log Analytics keeps logs and traces.')
@minValue(30)
@maxValue(730)
param logRetentionDays int = 30

// App tuning. Each value is the string the app decodes (src/config.ts); the defaults are the app's own.
@description('MAX_EVENT_BODY_BYTES: largest accepted event body, 2 to 1048576 bytes (over 24 KB a payload travels by claim check, a blob).')
param maxEventBodyBytes string = '32768'

@description('WEBHOOKS_TABLE: table of registered webhooks.')
param webhooksTable string = 'webhooks'

@description('EVENTS_TABLE: table of ingested events.')
param eventsTable string = 'events'

@description('ATTEMPTS_TABLE: table of delivery attempts.')
param attemptsTable string = 'attempts'

@description('DELIVERIES_QUEUE: queue of pending deliveries (its poison queue is <name>-poison).')
param deliveriesQueue string = 'deliveries'

@description('FANOUT_PAGE_SIZE: webhooks ingest reads and enqueues before it answers (the first page), 1 to 1000.')
param fanoutPageSize string = '200'

@description('FANOUT_STEP_SIZE: webhooks per page of the fan-out orchestration (one table query), 1 to 1000.')
param fanoutStepSize string = '1000'

@description('MAX_DELIVERIES_PER_MESSAGE: deliveries carried by one queue message, 1 to 100.')
param maxDeliveriesPerMessage string = '100'

@description('DELIVERY_TIMEOUT_MS: budget of one delivery attempt, 100 to 300000 ms.')
param deliveryTimeoutMs string = '15000'

@description('RETRY_SCHEDULE_SECONDS: comma-separated delays before each retry.')
param retryScheduleSeconds string = '5,300,1800,7200,18000,36000,36000'

@description('RETRY_JITTER_RATIO: random spread of each retry delay, 0 to 1.')
param retryJitterRatio string = '0.2'

@description('MAX_RESPONSE_BYTES: bytes of a receiver response kept in the attempt log, 0 to 32768.')
param maxResponseBytes string = '4096'

@description('MAX_CONNECTIONS_PER_ORIGIN: sockets one instance opens to one receiver, 1 to 1024.')
param maxConnectionsPerOrigin string = '32'

@description('MAX_INFLIGHT_REQUESTS_PER_ENDPOINT: requests one instance has in flight to one webhook URL, 1 to MAX_CONNECTIONS_PER_ORIGIN; more wait up to 1 s, then go back to the queue.')
param maxInflightRequestsPerEndpoint string = '8'

@description('CIRCUIT_BREAKER_TIMEOUTS: timeouts in a row after which one instance pauses requests to a receiver origin, 0 (off) to 1000.')
param circuitBreakerTimeouts string = '3'

@description('CIRCUIT_BREAKER_COOLDOWN_MS: how long a paused origin gets no requests before one probe, 100 to 3600000 ms.')
param circuitBreakerCooldownMs string = '30000'

@description('DURABLE_TASK_HUB: task hub of the fan-out orchestrations (host.json reads it); apps sharing a storage account need different ones.')
param durableTaskHub string = 'WebhookDispatcher'

@description('VERIFY_ENDPOINTS_DEFAULT: whether a webhook that does not say `verify` must pass endpoint verification.')
param verifyEndpointsDefault string = 'false'

@description('DISABLED_EVENTS: comma-separated catalogue events this deployment does not emit (empty: none).')
param disabledEvents string = ''

@description('TENANT_GRANTS_CACHE_SECONDS: how long an instance keeps tenants\' routing grants (0-300); the bound for a grant change to reach every instance.')
param tenantGrantsCacheSeconds string = '5'
@description('REGISTRY_CACHE_MS: how long an instance keeps a first page of webhooks (fan-out) and the webhooks it read (worker), 0-60000, 0 off; the bound for another instance\'s registry write to reach it.')
param registryCacheMs string = '1000'
@description('RETENTION_DAYS: events, attempts, poison entries and finished orchestrations older than this are purged.')
param retentionDays string = '30'

@description('RETENTION_SCHEDULE: NCRONTAB schedule of the retention purge (the timer binding reads it).')
param retentionSchedule string = '0 5 * * * *'

@description('RETENTION_MAX_EVENTS_PER_RUN: events one purge run looks at, at most.')
param retentionMaxEventsPerRun string = '1000'

@description('PRIVACY_TABLE: the retention and erasure indexes.')
param privacyTable string = 'privacy'

@description('STORAGE_TIMEOUT_MS: deadline of one storage call, retries included, 100 to 120000 ms; a request whose storage call runs out answers 503.')
param storageTimeoutMs string = '5000'

@description('STRANDED_EVENT_SECONDS: age after which an event never answered 202 (still accepted) is removed by the sweep timer, 60 to 604800 s.')
param strandedEventSeconds string = '900'

@description('ALLOWED_DESTINATION_PORTS: ports or ranges webhook URLs may use, e.g. 443,8443 (empty: any).')
param allowedDestinationPorts string = ''

@description('AUTO_DISABLE_AFTER_SECONDS: a webhook failing every attempt this long (and AUTO_DISABLE_MIN_FAILURES times) is disabled; 0 = never.')
param autoDisableAfterSeconds string = '432000'

@description('AUTO_DISABLE_MIN_FAILURES: failed attempts in a row needed as well.')
param autoDisableMinFailures string = '10'

@description('OPS_WEBHOOK_URL: where the dispatcher sends its signed operational events (empty: nowhere).')
param opsWebhookUrl string = ''

@description('OPS_WEBHOOK_SECRET: whsec_ + base64 signing secret of the operational events; required with opsWebhookUrl. Stored in Key Vault.')
@secure()
param opsWebhookSecret string = ''

@description('STATS_TABLE: per-webhook hourly counters behind GET /api/webhooks/{id}/stats.')
param statsTable string = 'webhookstats'

@description('RATE_LIMITS_TABLE: send slots of rate-limited webhooks (rateLimitPerSecond), shared by every instance.')
param rateLimitsTable string = 'webhookratelimits'
@description('PAYLOADS_CONTAINER: private blob container of large event payloads (the claim check); deleted with their events.')
param payloadsContainer string = 'event-payloads'

@description('MAX_INFLIGHT_DELIVERY_BYTES: request bodies one instance sends at once, at most (bounds memory with large payloads).')
param maxInflightDeliveryBytes string = '33554432'

@description('E-mail address of the action group the alerts go to (poison queue growth, delivery failure rate); empty: no alerts.')
param alertEmail string = ''

@description('Alert when more than this share of delivery attempts failed over 15 minutes (0-100).')
param failureRateAlertPercent int = 20

@description('Tags put on every resource.')
param tags object = {}

var suffix = uniqueString(resourceGroup().id, appName)
var storageAccountName = take('st${suffix}', 24)
var keyVaultName = take('kv-${suffix}', 24)
var deploymentContainerName = 'app-package'

// Built-in role definition ids (the same in every tenant).
var keyVaultSecretsUserRoleId = '4633458b-17de-408a-b874-0445c86b69e6'
var storageBlobDataOwnerRoleId = 'b7e6dc6d-f1e8-4753-8033-0f276bb0955b'
var storageQueueDataContributorRoleId = '974c5e8b-45b9-4653-ba55-5f855dd0fb88'
var storageTableDataContributorRoleId = '0a9a7e1f-b9d0-4cc4-a60d-0319b160aaa3'

resource logs 'Microsoft.OperationalInsights/workspaces@2023-09-01' = {
  name: '${appName}-logs'
  location: location
  tags: tags
  properties: {
    sku: {
      name: 'PerGB2018'
    }
    retentionInDays: logRetentionDays
  }
}

resource appInsights 'Microsoft.Insights/components@2020-02-02' = {
  name: '${appName}-ai'
  location: location
  tags: tags
  kind: 'web'
  properties: {
    Application_Type: 'web'
    WorkspaceResourceId: logs.id
    IngestionMode: 'LogAnalytics'
  }
}

resource storage 'Microsoft.Storage/storageAccounts@2025-01-01' = {
  name: storageAccountName
  location: location
  tags: tags
  kind: 'StorageV2'
  sku: {
    name: storageSku
  }
  properties: {
    minimumTlsVersion: 'TLS1_2'
    supportsHttpsTrafficOnly: true
    allowBlobPublicAccess: false
    // Identity only (see the header): no account key can be used against this account.
    allowSharedKeyAccess: false
    defaultToOAuthAuthentication: true
  }
}

resource blobService 'Microsoft.Storage/storageAccounts/blobServices@2025-01-01' = {
  parent: storage
  name: 'default'
}

// Flex Consumption reads the app's zip package from this container.
resource deploymentContainer 'Microsoft.Storage/storageAccounts/blobServices/containers@2025-01-01' = {
  parent: blobService
  name: deploymentContainerName
  properties: {
    publicAccess: 'None'
  }
}

// Large event payloads (docs/privacy.md): private, read only by the app's identity. The purge deletes
// them with their events; this rule is the backstop for one it missed (a day after the retention).
resource payloadsBlobContainer 'Microsoft.Storage/storageAccounts/blobServices/containers@2025-01-01' = {
  parent: blobService
  name: payloadsContainer
  properties: {
    publicAccess: 'None'
  }
}

resource payloadsLifecycle 'Microsoft.Storage/storageAccounts/managementPolicies@2025-01-01' = {
  parent: storage
  name: 'default'
  properties: {
    policy: {
      rules: [
        {
          name: 'event-payloads-retention'
          enabled: true
          type: 'Lifecycle'
          definition: {
            filters: { blobTypes: [ 'blockBlob' ], prefixMatch: [ '${payloadsContainer}/' ] }
            actions: { baseBlob: { delete: { daysAfterModificationGreaterThan: int(retentionDays) + 1 } } }
          }
        }
      ]
    }
  }
}

resource vault 'Microsoft.KeyVault/vaults@2025-05-01' = {
  name: keyVaultName
  location: location
  tags: tags
  properties: {
    tenantId: subscription().tenantId
    sku: {
      family: 'A'
      name: 'standard'
    }
    enableRbacAuthorization: true
    enableSoftDelete: true
    softDeleteRetentionInDays: 7
  }
}

resource ingestKeySecret 'Microsoft.KeyVault/vaults/secrets@2025-05-01' = {
  parent: vault
  name: 'ingest-api-key'
  properties: {
    value: ingestApiKey
  }
}

resource adminKeySecret 'Microsoft.KeyVault/vaults/secrets@2025-05-01' = {
  parent: vault
  name: 'admin-api-key'
  properties: {
    value: adminApiKey
  }
}

resource secretsKeySecret 'Microsoft.KeyVault/vaults/secrets@2025-05-01' = {
  parent: vault
  name: 'secrets-key'
  properties: {
    value: secretsKey
  }
}

// Only during a rotation: an empty list needs no secret.
resource secretsKeysPreviousSecret 'Microsoft.KeyVault/vaults/secrets@2025-05-01' = if (!empty(secretsKeysPrevious)) {
  parent: vault
  name: 'secrets-keys-previous'
  properties: {
    value: secretsKeysPrevious
  }
}

// Only with an ops receiver: no secret, no Key Vault entry.
resource opsWebhookSecretSecret 'Microsoft.KeyVault/vaults/secrets@2025-05-01' = if (!empty(opsWebhookSecret)) {
  parent: vault
  name: 'ops-webhook-secret'
  properties: {
    value: opsWebhookSecret
  }
}

resource subjectHashKeySecret 'Microsoft.KeyVault/vaults/secrets@2025-05-01' = {
  parent: vault
  name: 'subject-hash-key'
  properties: {
    value: subjectHashKey
  }
}

resource plan 'Microsoft.Web/serverfarms@2024-11-01' = {
  name: '${appName}-plan'
  location: location
  tags: tags
  kind: 'functionapp'
  sku: {
    name: 'FC1'
    tier: 'FlexConsumption'
  }
  properties: {
    reserved: true // Linux
  }
}

resource functionApp 'Microsoft.Web/sites@2024-11-01' = {
  name: appName
  location: location
  tags: tags
  kind: 'functionapp,linux'
  identity: {
    type: 'SystemAssigned'
  }
  properties: {
    serverFarmId: plan.id
    httpsOnly: true
    siteConfig: {
      minTlsVersion: '1.2'
    }
    functionAppConfig: {
      deployment: {
        storage: {
          type: 'blobContainer'
          value: '${storage.properties.primaryEndpoints.blob}${deploymentContainerName}'
          authentication: {
            type: 'SystemAssignedIdentity'
          }
        }
      }
      scaleAndConcurrency: {
        maximumInstanceCount: maximumInstanceCount
        instanceMemoryMB: instanceMemoryMB
      }
      // Flex Consumption runs Functions v4 only; the runtime is set here, not with
      // FUNCTIONS_WORKER_RUNTIME / FUNCTIONS_EXTENSION_VERSION app settings (Flex refuses those).
      // Node 20 reached its end of life on 2026-04-30; CI tests the app on 20 (the minimum,
      // package.json engines) and on 22, which runs here.
      runtime: {
        name: 'node'
        version: '22'
      }
    }
  }
}

// The app reads its own package from the deployment container, and nothing else of the blob service.
resource packageReader 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(deploymentContainer.id, functionApp.id, storageBlobDataOwnerRoleId)
  scope: deploymentContainer
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', storageBlobDataOwnerRoleId)
    principalId: functionApp.identity.principalId
    principalType: 'ServicePrincipal'
  }
}

// The app's identity on its storage account: blobs (the host's leases, Durable's large messages), queues
// (triggers, deliveries, Durable control and work items) and tables (the app's tables, Durable's hub).
resource storageBlobOwner 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(storage.id, functionApp.id, storageBlobDataOwnerRoleId)
  scope: storage
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', storageBlobDataOwnerRoleId)
    principalId: functionApp.identity.principalId
    principalType: 'ServicePrincipal'
  }
}

resource storageQueueContributor 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(storage.id, functionApp.id, storageQueueDataContributorRoleId)
  scope: storage
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', storageQueueDataContributorRoleId)
    principalId: functionApp.identity.principalId
    principalType: 'ServicePrincipal'
  }
}

resource storageTableContributor 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(storage.id, functionApp.id, storageTableDataContributorRoleId)
  scope: storage
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', storageTableDataContributorRoleId)
    principalId: functionApp.identity.principalId
    principalType: 'ServicePrincipal'
  }
}

resource secretsReader 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(vault.id, functionApp.id, keyVaultSecretsUserRoleId)
  scope: vault
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', keyVaultSecretsUserRoleId)
    principalId: functionApp.identity.principalId
    principalType: 'ServicePrincipal'
  }
}

// Every setting of src/config.ts, plus the platform's Application Insights connection. Set after the role
// assignment so the Key Vault references can resolve when the app first starts.
resource appSettings 'Microsoft.Web/sites/config@2024-11-01' = {
  parent: functionApp
  name: 'appsettings'
  dependsOn: [
    secretsReader
    storageBlobOwner
    storageQueueContributor
    storageTableContributor
  ]
  properties: {
    APPLICATIONINSIGHTS_CONNECTION_STRING: appInsights.properties.ConnectionString
    // Identity-based: the host, the Durable extension and the app's adapters all read these two.
    AzureWebJobsStorage__accountName: storage.name
    AzureWebJobsStorage__credential: 'managedidentity'
    INGEST_API_KEY: '@Microsoft.KeyVault(SecretUri=${ingestKeySecret.properties.secretUri})'
    ADMIN_API_KEY: '@Microsoft.KeyVault(SecretUri=${adminKeySecret.properties.secretUri})'
    SECRETS_KEY: '@Microsoft.KeyVault(SecretUri=${secretsKeySecret.properties.secretUri})'
    SECRETS_KEYS_PREVIOUS: empty(secretsKeysPrevious) ? '' : '@Microsoft.KeyVault(SecretUri=${secretsKeysPreviousSecret.properties.secretUri})'
    // Example keys are refused in Azure whatever this says (WEBSITE_INSTANCE_ID); pinned all the same.
    DEVELOPMENT_MODE: 'false'
    MAX_EVENT_BODY_BYTES: maxEventBodyBytes
    WEBHOOKS_TABLE: webhooksTable
    EVENTS_TABLE: eventsTable
    DELIVERIES_QUEUE: deliveriesQueue
    // Production never delivers to loopback, private or link-local addresses (SSRF); not a parameter on purpose.
    ALLOW_PRIVATE_DESTINATIONS: 'false'
    ALLOWED_DESTINATION_PORTS: allowedDestinationPorts
    ATTEMPTS_TABLE: attemptsTable
    FANOUT_PAGE_SIZE: fanoutPageSize
    FANOUT_STEP_SIZE: fanoutStepSize
    MAX_DELIVERIES_PER_MESSAGE: maxDeliveriesPerMessage
    DURABLE_TASK_HUB: durableTaskHub
    VERIFY_ENDPOINTS_DEFAULT: verifyEndpointsDefault
    DISABLED_EVENTS: disabledEvents
    TENANT_GRANTS_CACHE_SECONDS: tenantGrantsCacheSeconds
    REGISTRY_CACHE_MS: registryCacheMs
    STORAGE_TIMEOUT_MS: storageTimeoutMs
    STRANDED_EVENT_SECONDS: strandedEventSeconds
    DELIVERY_TIMEOUT_MS: deliveryTimeoutMs
    RETRY_SCHEDULE_SECONDS: retryScheduleSeconds
    RETRY_JITTER_RATIO: retryJitterRatio
    MAX_RESPONSE_BYTES: maxResponseBytes
    MAX_CONNECTIONS_PER_ORIGIN: maxConnectionsPerOrigin
    MAX_INFLIGHT_REQUESTS_PER_ENDPOINT: maxInflightRequestsPerEndpoint
    CIRCUIT_BREAKER_TIMEOUTS: circuitBreakerTimeouts
    CIRCUIT_BREAKER_COOLDOWN_MS: circuitBreakerCooldownMs
    SUBJECT_HASH_KEY: '@Microsoft.KeyVault(SecretUri=${subjectHashKeySecret.properties.secretUri})'
    RETENTION_DAYS: retentionDays
    RETENTION_SCHEDULE: retentionSchedule
    RETENTION_MAX_EVENTS_PER_RUN: retentionMaxEventsPerRun
    PRIVACY_TABLE: privacyTable
    AUTO_DISABLE_AFTER_SECONDS: autoDisableAfterSeconds
    AUTO_DISABLE_MIN_FAILURES: autoDisableMinFailures
    OPS_WEBHOOK_URL: opsWebhookUrl
    OPS_WEBHOOK_SECRET: empty(opsWebhookSecret) ? '' : '@Microsoft.KeyVault(SecretUri=${opsWebhookSecretSecret.properties.secretUri})'
    STATS_TABLE: statsTable
    RATE_LIMITS_TABLE: rateLimitsTable
    PAYLOADS_CONTAINER: payloadsContainer
    MAX_INFLIGHT_DELIVERY_BYTES: maxInflightDeliveryBytes
  }
}

// Alerts (docs/delivery.md, "Operational events"): only with an e-mail to send them to.
resource alertGroup 'Microsoft.Insights/actionGroups@2023-01-01' = if (!empty(alertEmail)) {
  name: 'ag-${appName}'
  location: 'global'
  tags: tags
  properties: {
    groupShortName: take('wh${suffix}', 12)
    enabled: true
    emailReceivers: [
      {
        name: 'ops'
        emailAddress: alertEmail
        useCommonAlertSchema: true
      }
    ]
  }
}

// Storage has no per-queue length metric: the app's own attempt counter (dispatcher.delivery.attempts,
// outcome Poisoned) says when deliveries-poison grows, which is what needs a person.
resource poisonAlert 'Microsoft.Insights/scheduledQueryRules@2023-12-01' = if (!empty(alertEmail)) {
  name: 'alert-${appName}-poison'
  location: location
  tags: tags
  properties: {
    displayName: '${appName}: deliveries went to the poison queue'
    description: 'Deliveries set aside in deliveries-poison in the last 15 minutes (GET /api/poison lists them; POST /api/poison/redrive sends them again).'
    severity: 2
    enabled: true
    scopes: [
      appInsights.id
    ]
    evaluationFrequency: 'PT5M'
    windowSize: 'PT15M'
    criteria: {
      allOf: [
        {
          query: 'customMetrics | where name == "dispatcher.delivery.attempts" and tostring(customDimensions.outcome) == "Poisoned" | summarize poisoned = sum(valueSum)'
          timeAggregation: 'Total'
          metricMeasureColumn: 'poisoned'
          operator: 'GreaterThan'
          threshold: 0
          failingPeriods: {
            numberOfEvaluationPeriods: 1
            minFailingPeriodsToAlert: 1
          }
        }
      ]
    }
    actions: {
      actionGroups: [
        alertGroup.id
      ]
    }
  }
}

resource failureRateAlert 'Microsoft.Insights/scheduledQueryRules@2023-12-01' = if (!empty(alertEmail)) {
  name: 'alert-${appName}-failure-rate'
  location: location
  tags: tags
  properties: {
    displayName: '${appName}: delivery failure rate above ${failureRateAlertPercent}%'
    description: 'Share of delivery attempts that failed (retried, poisoned or 410) over 15 minutes; GET /api/webhooks/{id}/stats tells which receivers.'
    severity: 3
    enabled: true
    scopes: [
      appInsights.id
    ]
    evaluationFrequency: 'PT5M'
    windowSize: 'PT15M'
    criteria: {
      allOf: [
        {
          query: 'customMetrics | where name == "dispatcher.delivery.attempts" | extend outcome = tostring(customDimensions.outcome) | where outcome in ("Delivered", "RetryLater", "Poisoned", "WebhookDisabledByGone") | summarize total = sum(valueSum), failed = sumif(valueSum, outcome != "Delivered") | where total >= 20 | extend failurePercent = 100.0 * failed / total'
          timeAggregation: 'Maximum'
          metricMeasureColumn: 'failurePercent'
          operator: 'GreaterThan'
          threshold: failureRateAlertPercent
          failingPeriods: {
            numberOfEvaluationPeriods: 1
            minFailingPeriodsToAlert: 1
          }
        }
      ]
    }
    actions: {
      actionGroups: [
        alertGroup.id
      ]
    }
  }
}

output functionAppName string = functionApp.name
output functionAppUrl string = 'https://${functionApp.properties.defaultHostName}'
output storageAccountName string = storage.name
output keyVaultName string = vault.name
output applicationInsightsName string = appInsights.name
