-- Argo CD health check for kseal.dev/SealedSecret (also correct for bitnami.com/SealedSecret objects,
-- whose status carries Bitnami's Synced condition). Install it through argocd-cm.yaml beside this file.
-- Argo CD runs it in gopher-lua (Lua 5.1) with the live object in the global `obj`.
--
--   Progressing  the controller has not seen this generation yet, is retrying (Reconciling=True),
--                or has not reported yet
--   Degraded     Stalled=True, Ready=False or Synced=False: the values cannot be unsealed or the
--                Secret cannot be written until the object, its Secret or the keys change
--   Healthy      Ready=True (or, on a Bitnami-style object, Synced=True) for the current generation
local hs = {}

local function find(conditions, wanted)
  if conditions == nil then return nil end
  for _, c in ipairs(conditions) do
    if c.type == wanted then return c end
  end
  return nil
end

local function describe(c, fallback)
  if c ~= nil and c.message ~= nil and c.message ~= "" then
    if c.reason ~= nil and c.reason ~= "" then return c.reason .. ": " .. c.message end
    return c.message
  end
  if c ~= nil and c.reason ~= nil and c.reason ~= "" then return c.reason end
  return fallback
end

local generation = nil
if obj.metadata ~= nil then generation = obj.metadata.generation end
local status = obj.status

if status == nil then
  hs.status = "Progressing"
  hs.message = "Waiting for the SealedSecret to be unsealed"
  return hs
end

if generation ~= nil and status.observedGeneration ~= nil and status.observedGeneration < generation then
  hs.status = "Progressing"
  hs.message = "Waiting for the controller to observe generation " .. tostring(generation)
  return hs
end

local conditions = status.conditions
local ready = find(conditions, "Ready")
local stalled = find(conditions, "Stalled")
local reconciling = find(conditions, "Reconciling")
local synced = find(conditions, "Synced")

if ready ~= nil and generation ~= nil and ready.observedGeneration ~= nil and ready.observedGeneration < generation then
  hs.status = "Progressing"
  hs.message = "Waiting for the controller to observe generation " .. tostring(generation)
  return hs
end

if stalled ~= nil and stalled.status == "True" then
  hs.status = "Degraded"
  hs.message = describe(stalled, "The SealedSecret cannot be unsealed")
  return hs
end
if reconciling ~= nil and reconciling.status == "True" then
  hs.status = "Progressing"
  hs.message = describe(reconciling, "The controller is retrying")
  return hs
end
if ready ~= nil then
  if ready.status == "True" then
    hs.status = "Healthy"
    hs.message = describe(ready, "Unsealed")
    return hs
  end
  if ready.status == "False" then
    hs.status = "Degraded"
    hs.message = describe(ready, "The SealedSecret cannot be unsealed")
    return hs
  end
  hs.status = "Progressing"
  hs.message = describe(ready, "Waiting for the SealedSecret to be unsealed")
  return hs
end
if synced ~= nil then
  if synced.status == "True" then
    hs.status = "Healthy"
    hs.message = describe(synced, "Synced")
    return hs
  end
  if synced.status == "False" then
    hs.status = "Degraded"
    hs.message = describe(synced, "The SealedSecret cannot be unsealed")
    return hs
  end
end
hs.status = "Progressing"
hs.message = "Waiting for the SealedSecret to be unsealed"
return hs
