// Drives the npm dicomweb-client (a peer nobody here wrote) against a running tcia-bridge.
// Usage: NODE_PATH=<node_modules> node dicomweb-client-check.cjs http://127.0.0.1:PORT/dicom-web PATIENT_ID
// Exits 0 when every call returns what a viewer needs; prints one line per check.
'use strict';
const XHR = require('xhr2');
globalThis.XMLHttpRequest = XHR;  // dicomweb-client needs an XMLHttpRequest in Node (toolchain.md 3)
const { api } = require('dicomweb-client');

const [url, patientId] = process.argv.slice(2);
if (!url || !patientId) {
  console.error('usage: dicomweb-client-check.cjs URL PATIENT_ID');
  process.exit(2);
}
const client = new api.DICOMwebClient({ url, headers: {} });
const value = (item, tag) => (item[tag] && item[tag].Value ? item[tag].Value[0] : undefined);
let failures = 0;
function check(ok, what) {
  console.log(`${ok ? 'ok  ' : 'FAIL'} ${what}`);
  if (!ok) failures += 1;
}

(async () => {
  const studies = await client.searchForStudies({ queryParams: { PatientID: patientId } });
  check(Array.isArray(studies) && studies.length > 0, `searchForStudies PatientID=${patientId}: ${studies.length} studies`);
  check(value(studies[0], '00100020') === patientId, 'study carries PatientID');
  check(typeof value(studies[0], '00081190') === 'string' && value(studies[0], '00081190').startsWith('http'), 'study carries an absolute RetrieveURL');

  // Find a study with an image series (the first may hold only SR).
  let study, series;
  for (const s of studies) {
    const uid = value(s, '0020000D');
    const list = await client.searchForSeries({ studyInstanceUID: uid });
    const image = list.find((x) => ['CT', 'MR', 'OT'].includes(value(x, '00080060')));
    if (image) { study = uid; series = value(image, '0020000E'); check(list.length > 0, `searchForSeries: ${list.length} series`); break; }
  }
  check(!!series, 'found an image series');

  const metadata = await client.retrieveSeriesMetadata({ studyInstanceUID: study, seriesInstanceUID: series });
  check(Array.isArray(metadata) && metadata.length > 0, `retrieveSeriesMetadata: ${metadata.length} instances`);
  const first = metadata[0];
  const rows = value(first, '00280010');
  const columns = value(first, '00280011');
  const bits = value(first, '00280100');
  check(typeof rows === 'number' && typeof columns === 'number', `Rows/Columns are numbers (${rows}x${columns})`);
  check(first['7FE00010'] && typeof first['7FE00010'].BulkDataURI === 'string', 'PixelData is a BulkDataURI');
  const sop = value(first, '00080018');

  const frames = await client.retrieveInstanceFrames({
    studyInstanceUID: study, seriesInstanceUID: series, sopInstanceUID: sop, frameNumbers: [1],
  });
  check(Array.isArray(frames) && frames.length === 1, 'retrieveInstanceFrames returned one frame');
  const frameBytes = frames[0].byteLength !== undefined ? frames[0].byteLength : frames[0].length;
  check(frameBytes === rows * columns * (bits / 8), `frame 1 has rows*columns*bytes = ${frameBytes} bytes`);

  const instance = await client.retrieveInstance({ studyInstanceUID: study, seriesInstanceUID: series, sopInstanceUID: sop });
  const bytes = new Uint8Array(instance);
  const magic = String.fromCharCode(bytes[128], bytes[129], bytes[130], bytes[131]);
  check(magic === 'DICM', `retrieveInstance returned a Part-10 file (${bytes.length} bytes)`);

  const instances = await client.searchForInstances({ studyInstanceUID: study, seriesInstanceUID: series });
  check(instances.length === metadata.length, `searchForInstances: ${instances.length} instances match the metadata`);

  if (failures) { console.error(`${failures} check(s) failed`); process.exit(1); }
  console.log('dicomweb-client: all checks passed');
})().catch((e) => {
  console.error('dicomweb-client error:', e && (e.message || e.status || e));
  process.exit(1);
});
