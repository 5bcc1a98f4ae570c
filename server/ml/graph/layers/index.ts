// Registers the built-in node types.
import "./basic";
import "./conv";
import "./pool";
import "./merge";

export { ChannelSlice } from "./channel-slice";
export { MaxPoolPadding2D } from "./max-pool-padding";
