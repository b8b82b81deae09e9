// Sending a file to a new dataset, straight to S3: one presigned POST for a small file,
// parts PUT in parallel for a large one (as sluice.client does). XHR, not fetch: only
// XHR reports upload progress.

import { ApiError, del, post } from "./api.js";

const MIB = 1024 * 1024;
/** Above this a file goes in parts of this size (S3's smallest part is 5 MiB). */
export const PART_BYTES = 16 * MIB;
const PARALLEL = 4;
const MAX_PARTS = 10000;

function s3Error(xhr) {
  const text = xhr.responseText || "";
  const code = /<Code>(.*?)<\/Code>/s.exec(text)?.[1];
  const message = /<Message>(.*?)<\/Message>/s.exec(text)?.[1];
  const words = [code, message].filter(Boolean).join(": ");
  return new ApiError(xhr.status, code || "s3_error", `S3 refused the upload${words ? `: ${words}` : ` (HTTP ${xhr.status})`}`);
}

/** Send ``body`` with XHR; ``onBytes(sent)`` as it goes; resolves with the XHR. */
function sendXhr(method, url, body, onBytes) {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open(method, url);
    xhr.upload.onprogress = (event) => onBytes(event.loaded);
    xhr.onload = () => (xhr.status >= 200 && xhr.status < 300 ? resolve(xhr) : reject(s3Error(xhr)));
    xhr.onerror = () => reject(new ApiError(0, "network", "the upload could not reach S3 (network error)"));
    xhr.send(body);
  });
}

/** Send ``file`` by the presigned POST ``ticket`` ({url, fields}, as the API answers it);
 * ``onProgress(sent, total)`` follows the bytes. A dataset's file and a model import go
 * this way. */
export async function postFile(ticket, file, onProgress) {
  // The policy's fields first and the file last, as S3 requires.
  const form = new FormData();
  for (const [name, value] of Object.entries(ticket.fields)) form.append(name, value);
  form.append("file", file, file.name);
  await sendXhr("POST", ticket.url, form, (sent) => onProgress(Math.min(sent, file.size), file.size));
  onProgress(file.size, file.size);
}

async function postForm(datasetId, ticket, file, onProgress) {
  if (file.size > ticket.max_bytes) {
    await del(`/datasets/${datasetId}`); // it would wait for a file forever
    throw new ApiError(413, "payload_too_large", `${file.name} is ${file.size} bytes; the upload limit is ${ticket.max_bytes}`);
  }
  await postFile(ticket, file, onProgress);
}

async function putParts(datasetId, file, onProgress) {
  // S3 takes at most 10,000 parts: a file past 160 GB goes in larger ones (whole MiB).
  const partBytes = Math.max(PART_BYTES, Math.ceil(file.size / MAX_PARTS / MIB) * MIB);
  const ticket = await post(`/datasets/${datasetId}/multipart-upload`, { bytes: file.size, part_bytes: partBytes });
  const sent = new Map();
  const report = () => onProgress([...sent.values()].reduce((a, b) => a + b, 0), file.size);
  const etags = new Map();
  const queue = [...ticket.parts];
  async function worker() {
    while (queue.length) {
      const part = queue.shift();
      const blob = file.slice(part.offset, part.offset + part.bytes);
      const xhr = await sendXhr("PUT", part.url, blob, (bytes) => {
        sent.set(part.number, bytes);
        report();
      });
      // The bucket's CORS rule exposes ETag; without it the part cannot be named.
      const etag = xhr.getResponseHeader("ETag");
      if (!etag) throw new ApiError(0, "no_etag", "S3 answered a part without an ETag the page can read (CORS ExposeHeaders)");
      etags.set(part.number, etag);
    }
  }
  try {
    await Promise.all(Array.from({ length: Math.min(PARALLEL, queue.length) }, worker));
  } catch (error) {
    await post(`/datasets/${datasetId}/multipart-upload/abort`, { upload_id: ticket.upload_id }).catch(() => {});
    throw error;
  }
  const parts = ticket.parts.map((part) => ({ number: part.number, etag: etags.get(part.number) }));
  await post(`/datasets/${datasetId}/multipart-upload/complete`, { upload_id: ticket.upload_id, parts });
}

/** Create a dataset from ``settings`` ({name, path, ...}) and send ``file`` to it;
 * ``onProgress(sent, total)`` follows the bytes. A file over ``partsAbove`` bytes goes in
 * parts (of PART_BYTES; a smaller file is one part). Resolves with the dataset's id. */
export async function uploadFile(file, settings, onProgress, { partsAbove = PART_BYTES } = {}) {
  const created = await post("/datasets", settings);
  const id = created.dataset.id;
  if (file.size > partsAbove) await putParts(id, file, onProgress);
  else await postForm(id, created.upload, file, onProgress);
  return id;
}
