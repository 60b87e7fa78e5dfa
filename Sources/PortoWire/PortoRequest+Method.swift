import SwiftProtobuf

extension Porto_TPortoRequest {
    /// The name of the RPC method this request calls: the name of its single set method field in
    /// rpc.proto (`"ListContainersBy"`, `"GetSystem"`, ...), or `"None"` when no known method field
    /// is set (portod answers such a request with `InvalidMethod`).
    ///
    /// When several method fields are set (portod runs only the first in its dispatch order unless it
    /// is verbose, docs/porto.md §1.2), the first in schema order is returned.
    public var methodName: String {
        if hasVersion { return "Version" }
        if hasGetSystem { return "GetSystem" }
        if hasSetSystem { return "SetSystem" }
        if hasCreate { return "Create" }
        if hasCreateWeak { return "CreateWeak" }
        if hasDestroy { return "Destroy" }
        if hasList { return "List" }
        if hasStart { return "Start" }
        if hasStop { return "Stop" }
        if hasPause { return "Pause" }
        if hasResume { return "Resume" }
        if hasKill { return "Kill" }
        if hasRespawn { return "Respawn" }
        if hasWait { return "Wait" }
        if hasAsyncWait { return "AsyncWait" }
        if hasStopAsyncWait { return "StopAsyncWait" }
        if hasListProperties { return "ListProperties" }
        if hasGetProperty { return "GetProperty" }
        if hasSetProperty { return "SetProperty" }
        if hasListDataProperties { return "ListDataProperties" }
        if hasGetDataProperty { return "GetDataProperty" }
        if hasGet { return "Get" }
        if hasCreateFromSpec { return "CreateFromSpec" }
        if hasUpdateFromSpec { return "UpdateFromSpec" }
        if hasListContainersBy { return "ListContainersBy" }
        if hasSetSymlink { return "SetSymlink" }
        if hasFindLabel { return "FindLabel" }
        if hasSetLabel { return "SetLabel" }
        if hasIncLabel { return "IncLabel" }
        if hasListVolumeProperties { return "ListVolumeProperties" }
        if hasListVolumes { return "ListVolumes" }
        if hasCreateVolume { return "CreateVolume" }
        if hasTuneVolume { return "TuneVolume" }
        if hasNewVolume { return "NewVolume" }
        if hasGetVolume { return "GetVolume" }
        if hasLinkVolume { return "LinkVolume" }
        if hasLinkVolumeTarget { return "LinkVolumeTarget" }
        if hasUnlinkVolume { return "UnlinkVolume" }
        if hasUnlinkVolumeTarget { return "UnlinkVolumeTarget" }
        if hasImportLayer { return "ImportLayer" }
        if hasRemoveLayer { return "RemoveLayer" }
        if hasListLayers { return "ListLayers" }
        if hasExportLayer { return "ExportLayer" }
        if hasGetLayerPrivate { return "GetLayerPrivate" }
        if hasSetLayerPrivate { return "SetLayerPrivate" }
        if hasListStorages { return "ListStorages" }
        if hasRemoveStorage { return "RemoveStorage" }
        if hasImportStorage { return "ImportStorage" }
        if hasExportStorage { return "ExportStorage" }
        if hasCreateMetaStorage { return "CreateMetaStorage" }
        if hasResizeMetaStorage { return "ResizeMetaStorage" }
        if hasRemoveMetaStorage { return "RemoveMetaStorage" }
        if hasConvertPath { return "ConvertPath" }
        if hasAttachProcess { return "AttachProcess" }
        if hasLocateProcess { return "LocateProcess" }
        if hasAttachThread { return "AttachThread" }
        if hasDockerImageStatus { return "dockerImageStatus" }
        if hasListDockerImages { return "listDockerImages" }
        if hasPullDockerImage { return "pullDockerImage" }
        if hasRemoveDockerImage { return "removeDockerImage" }
        return "None"
    }
}
