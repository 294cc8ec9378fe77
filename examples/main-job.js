// Placeholder main job until the embedded server and CLI are in place.
console.log('athena-rx: build complete');
