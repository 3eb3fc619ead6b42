// Offline check of a Gantry token (gtp_, gti_, gtr_, gtc_, gtk_): format and CRC32 checksum.
// No dependencies; a valid checksum says "this is a Gantry token", not that it is still live.
const BASE62 = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';

export function isGantryToken(token) {
  const match = /^(gt[pirck]_[0-9A-Za-z]{30})([0-9A-Za-z]{6})$/.exec(token);
  if (!match) return false;
  let crc = 0xffffffff; // CRC-32 (IEEE 802.3, as zlib) over the 34 ASCII characters of prefix + random
  for (const char of match[1]) {
    crc ^= char.charCodeAt(0);
    for (let bit = 0; bit < 8; bit++) crc = (crc >>> 1) ^ (0xedb88320 & -(crc & 1));
  }
  let value = (crc ^ 0xffffffff) >>> 0;
  let checksum = ''; // 6 base62 digits, most significant first, left-padded with '0'
  for (let i = 0; i < 6; i++, value = Math.floor(value / 62)) checksum = BASE62[value % 62] + checksum;
  return checksum === match[2];
}
